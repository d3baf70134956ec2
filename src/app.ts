import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import config from '../plugins/config.js'
import drainConnections from '../plugins/drain-connections.js'
import liveState from '../plugins/live-state.js'
import sse from '../plugins/sse.js'
import viewers from '../plugins/viewers.js'
import api from '../routes/api.js'
import health from '../routes/health.js'
import live from '../routes/live.js'
import widget from '../routes/widget.js'
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
  app.register(drainConnections)
  app.register(config, { env })
  app.register(liveState, { clock })
  app.register(viewers)
  app.register(sse)
  app.register(api, { prefix: '/api/live' })
  app.register(live)
  app.register(widget)
  app.register(health)
  return app
}
