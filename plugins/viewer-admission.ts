import type { FastifyReply, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { parseAllowedOrigins } from '../src/allowed-origins.js'
import { sendError } from '../src/error-reply.js'
import { wantsEventStream } from '../src/sse-streams.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook for the viewers' route: refuses a new viewer before it is let in. */
    admitViewer: onRequestAsyncHookHandler
  }
}

/** The answer to a viewer over a cap, from the hook or from a set that filled up meanwhile. */
export function refuseViewer (reply: FastifyReply): FastifyReply {
  return sendError(reply, 503, 'CC_LIVE_TOO_MANY_VIEWERS', 'too many viewers, try again later')
}

/**
 * Refuses a new viewer (a WebSocket upgrade or an event stream) before it joins: 403 when
 * the page's origin is not allowed, 503 when the viewer caps are reached. Existing viewers
 * are not touched, and the JSON snapshot is never refused. A request without an Origin
 * header is not from a browser page and is let through: the allow-list keeps other sites'
 * pages out, it does not authenticate anyone.
 */
export default fp(async function viewerAdmission (fastify) {
  let allowedOrigins: ReadonlySet<string> | null
  try {
    allowedOrigins = parseAllowedOrigins(fastify.config.CC_LIVE_ALLOWED_ORIGINS)
  } catch (error) {
    throw new Error(`CC_LIVE_ALLOWED_ORIGINS: ${(error as Error).message}`)
  }

  fastify.decorate('admitViewer', async function admitViewer (request, reply) {
    if (!request.ws && !wantsEventStream(request.headers.accept)) return
    const origin = request.headers.origin
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.has(origin)) {
      return sendError(reply, 403, 'CC_LIVE_ORIGIN_NOT_ALLOWED', 'this origin may not subscribe')
    }
    if (!fastify.viewerLimits.admits(request.ip)) return refuseViewer(reply)
  })
}, { name: 'viewer-admission', dependencies: ['config', 'viewers'] })
