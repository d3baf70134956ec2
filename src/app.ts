import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import config from '../plugins/config.js'
import liveState from '../plugins/live-state.js'
import viewers from '../plugins/viewers.js'
import api from '../routes/api.js'
import health from '../routes/health.js'
import live from '../routes/live.js'
import type { Clock } from './clock.js'
import { replyWithError } from './error-reply.js'

export interface AppOptions {
  /** Settings; process.env when absent. */
  env?: Record<string, string | undefined>
  clock?: Clock
  logger?: FastifyServerOptions['logger']
}

export function buildApp ({ env, clock, logger = false }: AppOptions = {}): FastifyInstance {
  const app: FastifyInstance = Fastify({
    logger,
    // A session_id of 42 is a client bug to report, not a string to coerce.
    ajv: { customOptions: { coerceTypes: false } },
    // Fastify wants this at construction, before the config plugin has validated CC_LIVE_TRUST_PROXY;
    // a function that asks the validated setting keeps one parser and one source of truth.
    trustProxy: (address, hop) => app.trustsProxy(address, hop)
  })
  app.setErrorHandler(replyWithError)
  closeConnectionsWhenDone(app)
  app.register(config, { env })
  app.register(liveState, { clock })
  app.register(viewers)
  app.register(api, { prefix: '/api/live' })
  app.register(live)
  app.register(health)
  return app
}

/**
 * Once closing, every response asks its client to close the connection, so a
 * request that was in flight at SIGTERM is answered and its keep-alive socket
 * does not hold the shutdown open.
 */
function closeConnectionsWhenDone (app: FastifyInstance): void {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
}
