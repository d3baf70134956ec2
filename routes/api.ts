import fastifyBearerAuth from '@fastify/bearer-auth'
import type { FastifyError, FastifyPluginAsync } from 'fastify'
import authFailureLimit from '../plugins/auth-failure-limit.ts'
import { errorBody, isErrorCode, retryAfterSeconds } from '../src/errors.ts'
import { sessionBodySchema } from '../src/live/heartbeat-schema.ts'
import type { Activity, SessionStatus } from '../src/live/public-state.ts'
import { sendSnapshot } from './snapshot-reply.ts'

interface SessionBody {
  session_id?: string
  status?: SessionStatus
  activity?: Activity
}

const MAX_BODY_BYTES = 4096

/**
 * The laptop's private API. Registered under /api/live without fastify-plugin,
 * so the bearer check and the strict body parsing guard exactly this prefix.
 */
const api: FastifyPluginAsync = async function api (fastify) {
  await fastify.register(authFailureLimit)
  await fastify.register(fastifyBearerAuth, {
    keys: [fastify.config.CC_LIVE_API_KEY],
    verifyErrorLogLevel: 'warn',
    // Its errors carry a catalogued code (FST_BEARER_AUTH_*): a 401 has the shape of every other error.
    errorResponse: (error) => {
      const { code } = error as FastifyError
      return errorBody(isErrorCode(code) ? code : 'FST_BEARER_AUTH_INVALID_AUTHORIZATION_HEADER', error.message)
    }
  })
  fastify.addHook('onSend', async (_request, reply) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="cc-live"')
  })

  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (request, body: string, done) => {
    // An empty body with a JSON content type, as some clients send, counts as no body.
    if (body.length === 0) return done(null, undefined)
    parseJson(request, body, done)
  })

  // No body (the original daemon's heartbeat) means no session id: the default session.
  fastify.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {}
  })

  const schema = { body: sessionBodySchema }
  const store = fastify.liveState
  fastify.post<{ Body: SessionBody }>('/heartbeat', { schema }, async (request, reply) => {
    const { session_id: sessionId, status, activity } = request.body
    const result = await store.heartbeat({ sessionId, status, activity })
    if (result.snapshot !== undefined) return sendSnapshot(reply, result.snapshot)
    reply.header('retry-after', String(retryAfterSeconds(result.retryAfterMs)))
    return reply.sendError('CC_LIVE_TOO_MANY_SESSIONS')
  })
  fastify.post<{ Body: SessionBody }>('/stop', { schema }, async (request, reply) =>
    sendSnapshot(reply, await store.stop(request.body.session_id)))
  // For the laptop's doctor: proves the endpoint and the key without changing anything.
  fastify.post('/check', async (_request, reply) => reply.code(204).send())
}

export default api
