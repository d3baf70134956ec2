import fp from 'fastify-plugin'
import { clientKey } from '../src/client-key.js'
import { FailureLimiter } from '../src/failure-limiter.js'

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
 */
export default fp<AuthFailureLimitOptions>(async function authFailureLimit (fastify, { limit = AUTH_FAILURE_LIMIT }) {
  const limiter = new FailureLimiter({ ...limit, clock: fastify.clock })
  // Said once each time the limiter fills up with blocked addresses, not once per failure.
  let warnedFull = false

  fastify.addHook('onRequest', async (request, reply) => {
    const waitMs = limiter.retryAfterMs(clientKey(request.ip))
    if (waitMs === 0) return
    const seconds = Math.ceil(waitMs / 1000)
    reply.header('retry-after', String(seconds))
    return reply.sendError('CC_LIVE_AUTH_RATE_LIMITED', `too many failed authentications from this address, retry in ${seconds} s`)
  })

  fastify.addHook('onSend', async (request, reply) => {
    if (reply.statusCode !== 401) return
    const counted = limiter.recordFailure(clientKey(request.ip))
    if (!counted && !warnedFull) request.log.warn({ blockedAddresses: limiter.trackedKeys }, 'auth failure limit full of blocked addresses: new failing addresses are not counted until a block ends')
    warnedFull = !counted
  })
}, { name: 'auth-failure-limit', dependencies: ['clock', 'errors'] })
