import type { FastifyPluginAsync } from 'fastify'

/** Liveness for the container healthcheck; quiet in the logs because it is polled. */
const health: FastifyPluginAsync = async function health (fastify) {
  fastify.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }))
}

export default health
