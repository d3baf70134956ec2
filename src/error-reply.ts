import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

/**
 * Every error leaves as `{statusCode, code, error, message}`. Client mistakes are
 * logged in one line without a stack; server faults are logged in full but never
 * described to the client, so no internal detail leaks into a response body.
 */
export function replyWithError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed')
    return sendError(reply, 500, 'INTERNAL', 'internal error')
  }
  request.log.info({ statusCode, code: error.code, reason: error.message }, 'request rejected')
  return sendError(reply, statusCode, error.code, error.message)
}

/** Sends an error in the one shape every error has, for refusals decided outside the error handler. */
export function sendError (reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  return reply.code(statusCode).send({ statusCode, code, error: STATUS_CODES[statusCode], message })
}
