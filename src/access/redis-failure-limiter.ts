import type { Redis, Result } from 'ioredis'
import { unavailableOr } from '../redis/errors.ts'
import type { FailureCounter } from './failure-limiter.ts'

/** One more failure; the first one starts the window, as the key's time to live on the server. */
const RECORD_FAILURE = `
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return failures`

/** The rest of the window once the failures reach the limit, else 0. */
const RETRY_AFTER = `
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then return 0 end
return math.max(redis.call('PTTL', KEYS[1]), 0)`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ccLiveRecordFailure (key: string, windowMs: number): Result<number, Context>
    ccLiveRetryAfter (key: string, maxFailures: number): Result<number, Context>
  }
}

export interface RedisFailureLimiterOptions {
  redis: Redis
  prefix: string
  maxFailures: number
  windowMs: number
}

/**
 * The failure limit shared by replicas: one counter per key on the server, its window the key's
 * expiry (the server's clock), so ten failures spread over three replicas block the key on all
 * three. The server forgets each key when its window ends, so memory is bounded by the failures
 * of one window, and a key is never refused room.
 */
export class RedisFailureLimiter implements FailureCounter {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #maxFailures: number
  readonly #windowMs: number

  constructor ({ redis, prefix, maxFailures, windowMs }: RedisFailureLimiterOptions) {
    this.#redis = redis
    this.#prefix = `${prefix}auth-failures:`
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    redis.defineCommand('ccLiveRecordFailure', { numberOfKeys: 1, lua: RECORD_FAILURE })
    redis.defineCommand('ccLiveRetryAfter', { numberOfKeys: 1, lua: RETRY_AFTER, readOnly: true })
  }

  async retryAfterMs (key: string): Promise<number> {
    try {
      return await this.#redis.ccLiveRetryAfter(this.#prefix + key, this.#maxFailures)
    } catch (error) {
      throw unavailableOr(error)
    }
  }

  async recordFailure (key: string): Promise<boolean> {
    await this.#redis.ccLiveRecordFailure(this.#prefix + key, this.#windowMs)
    return true
  }
}
