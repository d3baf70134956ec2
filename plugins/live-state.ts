import fp from 'fastify-plugin'
import { LiveState } from '../src/live-state.js'

declare module 'fastify' {
  interface FastifyInstance {
    liveState: LiveState
  }
}

/** Decorates the instance with the one live-state store and its expiry timer, and logs each public change. */
export default fp(async function liveState (fastify) {
  const { ttlMs, CC_LIVE_MAX_SESSIONS, publicFields } = fastify.config
  const store = new LiveState({ ttlMs, maxSessions: CC_LIVE_MAX_SESSIONS, publicFields, clock: fastify.clock })
  store.onChange(({ state }) => fastify.log.info({ state }, 'live state changed'))
  fastify.decorate('liveState', store)
  fastify.addHook('onClose', async () => store.close())
}, { name: 'live-state', dependencies: ['config', 'clock'] })
