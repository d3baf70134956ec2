import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import { RedisLiveStore } from '../src/live/redis-store.ts'
import { LiveState } from '../src/live/state.ts'
import type { LiveStore } from '../src/live/store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    liveState: LiveStore
  }
}

/**
 * Decorates the instance with the one live-state store and logs each public change: in this
 * process with its expiry timer, or, with CC_LIVE_REDIS_URL set, shared with the other replicas
 * through Redis. Everything else sees only the LiveStore interface.
 */
export default fp(async function liveState (fastify) {
  const { ttlMs, CC_LIVE_MAX_SESSIONS, publicFields } = fastify.config
  const options = { ttlMs, maxSessions: CC_LIVE_MAX_SESSIONS, publicFields, clock: fastify.clock }
  const shared = fastify.redis
  const store: LiveStore = shared === null
    ? new LiveState(options)
    : await openShared(new RedisLiveStore({ ...options, redis: shared.client, prefix: shared.prefix, logSessionEvents: fastify.config.historyFile !== false }), fastify.log)
  store.onChange(({ state }) => fastify.log.info({ state }, 'live state changed'))
  fastify.decorate('liveState', store)
  fastify.addHook('onClose', async () => store.close())
}, { name: 'live-state', dependencies: ['config', 'clock', 'redis'] })

async function openShared (store: RedisLiveStore, log: FastifyBaseLogger): Promise<RedisLiveStore> {
  try {
    await store.open()
  } catch (error) {
    await store.close()
    throw error
  }
  store.onAvailabilityChange((available) => {
    if (available) log.warn('Redis reachable again: the private API answers again')
    else log.warn('Redis unreachable: the private API answers 503 until it is back; viewers keep the last state')
  })
  return store
}
