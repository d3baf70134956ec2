import fp from 'fastify-plugin'
import type { Clock } from '../src/clock.js'
import { LiveState } from '../src/live-state.js'

declare module 'fastify' {
  interface FastifyInstance {
    liveState: LiveState
  }
}

export interface LiveStatePluginOptions {
  clock?: Clock
}

/** Decorates the instance with the one live-state store and logs each public change. */
export default fp<LiveStatePluginOptions>(async function liveState (fastify, { clock }) {
  const store = new LiveState({ ttlMs: fastify.config.CC_LIVE_TTL_SECONDS * 1000, clock })
  store.onChange(({ state }) => fastify.log.info({ state }, 'live state changed'))
  fastify.decorate('liveState', store)
  fastify.addHook('onClose', async () => store.close())
}, { name: 'live-state', dependencies: ['config'] })
