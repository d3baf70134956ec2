import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { redisClientOptions } from '../src/redis/connection.ts'

/** Where replicas share their state: the connection, and the prefix of every key and channel. */
export interface SharedRedis {
  readonly client: Redis
  readonly prefix: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Null when the state lives in this process. */
    redis: SharedRedis | null
  }
}

/**
 * A replica that cannot reach Redis at start-up has no state to show its viewers, so it does not
 * start: after this long it exits non-zero and its supervisor starts it again.
 */
export const REDIS_START_TIMEOUT_MS = 5000

/**
 * With CC_LIVE_REDIS_URL set, opens the one command connection to Redis (or Valkey), waits until
 * it is ready, and closes it after everything that uses it has closed. The client reconnects by
 * itself; who uses the connection watches its events.
 */
export default fp(async function redis (fastify) {
  const settings = fastify.config.redis
  if (settings === null) {
    fastify.decorate('redis', null)
    return
  }
  const client = new Redis(settings.url, redisClientOptions(settings))
  // Each failed attempt emits an error; the store reports the outage once, so these are detail.
  let lastError: Error | undefined
  client.on('error', (error: Error) => {
    lastError = error
    fastify.log.debug({ reason: error.message }, 'redis connection error')
  })
  // The client retries meanwhile; its errors are not the end (events.once would take them for it).
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), REDIS_START_TIMEOUT_MS)
    client.once('ready', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
  if (!ready) {
    client.disconnect()
    throw new Error(`cannot reach Redis at ${settings.endpoint} within ${REDIS_START_TIMEOUT_MS} ms${lastError === undefined ? '' : `: ${lastError.message}`}`)
  }
  fastify.log.info({ redis: settings.endpoint, prefix: settings.prefix }, 'connected to Redis: the live state is shared')
  fastify.decorate('redis', { client, prefix: settings.prefix })
  fastify.addHook('onClose', async () => {
    await client.quit().catch(() => client.disconnect())
  })
}, { name: 'redis', dependencies: ['config'] })
