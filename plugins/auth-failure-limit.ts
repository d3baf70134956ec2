import fp from 'fastify-plugin'
import { clientKey } from '../src/access/client-key.ts'
import { FailureLimiter, type FailureCounter } from '../src/access/failure-limiter.ts'
import { RedisFailureLimiter } from '../src/access/redis-failure-limiter.ts'
import { retryAfterSeconds } from '../src/errors.ts'

/**
 * Ten wrong keys per address per ten minutes: a typo or two is forgiven, a guesser gets
 * 1440 tries a day against a random key (`openssl rand -hex 32`: 256 bits). The daemon,
 * which has the key, never fails and so is never limited, however many sessions it runs.
 */
export const AUTH_FAILURE_LIMIT = { maxFailures: 10, windowMs: 10 * 60_000, maxKeys: 10_000 }

export interface AuthFailureLimitOptions {
  /** AUTH_FAILURE_LIMIT unless a test needs a smaller one. */
  limit?: typeof AUTH_FAILURE_LIMIT
}

/**
 * Answers 429 with Retry-After to an address that has failed authentication too
 * often. Registered in the API's context before the bearer check, so a limited
 * address is refused before its key is even compared, and only 401s count.
 * With Redis the counters are shared by every replica; while it is out of reach
 * the check fails with the API's 503.
 */
export default fp<AuthFailureLimitOptions>(async function authFailureLimit (fastify, { limit = AUTH_FAILURE_LIMIT }) {
  const shared = fastify.hasDecorator('redis') ? fastify.redis : null
  const limiter: FailureCounter = shared === null
    ? new FailureLimiter({ ...limit, clock: fastify.clock })
    : new RedisFailureLimiter({ ...limit, redis: shared.client, prefix: shared.prefix })
  // Said once each time the limiter fills up with blocked addresses, not once per failure.
  let warnedFull = false

  fastify.addHook('onRequest', async (request, reply) => {
    const waitMs = await limiter.retryAfterMs(clientKey(request.ip))
    if (waitMs === 0) return
    const seconds = retryAfterSeconds(waitMs)
    reply.header('retry-after', String(seconds))
    return reply.sendError('CC_LIVE_AUTH_RATE_LIMITED', `too many failed authentications from this address, retry in ${seconds} s`)
  })

  fastify.addHook('onSend', async (request, reply) => {
    if (reply.statusCode !== 401) return
    let counted: boolean
    try {
      counted = await limiter.recordFailure(clientKey(request.ip))
    } catch (error) {
      // The 401 goes out all the same; one failure uncounted while Redis is away.
      request.log.warn({ reason: (error as Error).message }, 'auth failure not counted: the shared counter is unreachable')
      return
    }
    if (!counted && !warnedFull) request.log.warn({ blockedAddresses: limit.maxKeys }, 'auth failure limit full of blocked addresses: new failing addresses are not counted until a block ends')
    warnedFull = !counted
  })
}, { name: 'auth-failure-limit', dependencies: ['clock', 'errors'] })
