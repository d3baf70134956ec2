import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { API_ERRORS, errorBody, isErrorCode, type ErrorCode } from '../src/errors.ts'
import { StoreUnavailableError } from '../src/live/store.ts'

/** While Redis is out of reach: long enough not to hammer it, short enough to come back soon after it. */
export const UNAVAILABLE_RETRY_SECONDS = 5

declare module 'fastify' {
  interface FastifyReply {
    /** Answers with a catalogued error, in the one shape every error has. */
    sendError (code: ErrorCode, message?: string): FastifyReply
  }
}

function sendError (this: FastifyReply, code: ErrorCode, message?: string): FastifyReply {
  const body = errorBody(code, message)
  return this.code(body.statusCode).send(body)
}

/**
 * Every error leaves as `{statusCode, code, error, message}` with a code from the catalogue.
 * Client mistakes are logged in one line without a stack; server faults are logged in full but
 * never described to the client, so no internal detail leaks into a response body. Also Fastify's
 * `frameworkErrors`, for the mistakes it finds before routing (a malformed URL). The shared state
 * out of reach (the API's mutations and failure limit, the history's reads) is a 503 to retry later.
 */
export function replyWithError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof StoreUnavailableError) {
    request.log.info({ reason: error.message }, 'request refused: the shared live state is unreachable')
    return sendError.call(reply.header('retry-after', String(UNAVAILABLE_RETRY_SECONDS)), 'CC_LIVE_UNAVAILABLE')
  }
  const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed')
    return sendError.call(reply, 'CC_LIVE_INTERNAL')
  }
  request.log.info({ statusCode, code: error.code, reason: error.message }, 'request rejected')
  const catalogued = isErrorCode(error.code) && API_ERRORS[error.code].statusCode === statusCode
  if (!catalogued) request.log.warn({ code: error.code, statusCode }, 'an error code missing from the catalogue was answered as CC_LIVE_BAD_REQUEST')
  return sendError.call(reply, catalogued ? error.code as ErrorCode : 'CC_LIVE_BAD_REQUEST', error.message)
}

export default fp(async function errors (fastify) {
  fastify.decorateReply('sendError', sendError)
  fastify.setErrorHandler(replyWithError)

  // The default 404 lacks `code`.
  fastify.setNotFoundHandler((request, reply) => reply.sendError('CC_LIVE_NOT_FOUND', `no route for ${request.method} ${request.url}`))
}, { name: 'errors' })
