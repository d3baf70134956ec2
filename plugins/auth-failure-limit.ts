import fp from 'fastify-plugin'
import { FailureLimiter } from '../src/failure-limiter.js'

/**
 * Ten wrong keys per address per ten minutes: a typo or two is forgiven, a guesser gets
 * 1440 tries a day against a random key (`openssl rand -hex 32`: 256 bits). The daemon,
 * which has the key, never fails and so is never limited, however many sessions it runs.
 */
export const AUTH_FAILURE_LIMIT = { maxFailures: 10, windowMs: 10 * 60_000, maxKeys: 10_000 }

/**
 * Answers 429 with Retry-After to an address that has failed authentication too
 * often. Registered in the API's context before the bearer check, so a limited
 * address is refused before its key is even compared, and only 401s count.
 */
export default fp(async function authFailureLimit (fastify) {
  const limiter = new FailureLimiter({ ...AUTH_FAILURE_LIMIT, clock: fastify.clock })

  fastify.addHook('onRequest', async (request, reply) => {
    const waitMs = limiter.retryAfterMs(request.ip)
    if (waitMs === 0) return
    const seconds = Math.ceil(waitMs / 1000)
    reply.header('retry-after', String(seconds))
    return reply.sendError('CC_LIVE_AUTH_RATE_LIMITED', `too many failed authentications from this address, retry in ${seconds} s`)
  })

  fastify.addHook('onSend', async (request, reply) => {
    if (reply.statusCode === 401) limiter.recordFailure(request.ip)
  })
}, { name: 'auth-failure-limit', dependencies: ['clock', 'errors'] })
