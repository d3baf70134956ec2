import fp from 'fastify-plugin'
import { parseAllowedOrigins } from '../src/allowed-origins.js'
import { sendError } from '../src/error-reply.js'

/**
 * Refuses a WebSocket upgrade before it happens: 403 when the page's origin is not
 * allowed, 503 when the viewer caps are reached. Existing viewers are not touched.
 * A request without an Origin header is not from a browser page and is let through:
 * the allow-list keeps other sites' pages out, it does not authenticate anyone.
 */
export default fp(async function viewerAdmission (fastify) {
  let allowedOrigins: ReadonlySet<string> | null
  try {
    allowedOrigins = parseAllowedOrigins(fastify.config.CC_LIVE_ALLOWED_ORIGINS)
  } catch (error) {
    throw new Error(`CC_LIVE_ALLOWED_ORIGINS: ${(error as Error).message}`)
  }

  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.ws) return
    const origin = request.headers.origin
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.has(origin)) {
      return sendError(reply, 403, 'CC_LIVE_ORIGIN_NOT_ALLOWED', 'this origin may not subscribe')
    }
    if (!fastify.viewers.admits(request.ip)) {
      return sendError(reply, 503, 'CC_LIVE_TOO_MANY_VIEWERS', 'too many viewers, try again later')
    }
  })
}, { name: 'viewer-admission', dependencies: ['config', 'viewers'] })
