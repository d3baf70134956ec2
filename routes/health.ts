import type { FastifyPluginAsync } from 'fastify'

/**
 * Liveness for the container healthcheck; quiet in the logs because it is polled. With the state
 * shared through Redis it says whether Redis is reachable, and stays 200 either way: without
 * Redis a replica still serves its viewers the last state, so restarting it would help no one.
 */
const health: FastifyPluginAsync = async function health (fastify) {
  const shared = fastify.redis !== null
  fastify.get('/healthz', { logLevel: 'warn' }, async () => {
    if (!shared) return { status: 'ok' }
    return fastify.liveState.available ? { status: 'ok', redis: 'reachable' } : { status: 'degraded', redis: 'unreachable' }
  })
}

export default health
