import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import clock from '../plugins/clock.ts'
import config from '../plugins/config.ts'
import connectionLimit from '../plugins/connection-limit.ts'
import drainConnections from '../plugins/drain-connections.ts'
import errors, { replyWithError } from '../plugins/errors.ts'
import history from '../plugins/history.ts'
import liveState from '../plugins/live-state.ts'
import redis from '../plugins/redis.ts'
import sse from '../plugins/sse.ts'
import stateFile from '../plugins/state-file.ts'
import viewerAdmission from '../plugins/viewer-admission.ts'
import websocketViewers from '../plugins/websocket-viewers.ts'
import api from '../routes/api.ts'
import health from '../routes/health.ts'
import historyRoutes from '../routes/history.ts'
import live from '../routes/live.ts'
import widget from '../routes/widget.ts'
import type { Clock } from './clock.ts'

/**
 * How long a client may take over each phase of an HTTP request, against slowloris
 * (headers sent a byte at a time) and slow bodies. Every request here is a few hundred
 * bytes, so these are generous for any real client. WebSocket viewers are not affected:
 * once upgraded, a connection is no longer an HTTP request.
 */
export interface HttpTimeouts {
  /** from the connection's first byte (or the previous response) to the end of the headers */
  headersMs: number
  /** to the end of the body */
  requestMs: number
  /** an idle keep-alive connection is closed after this; longer than the 60 s idle timeout of common proxies */
  keepAliveMs: number
  /** how often Node checks the two above, so a connection is cut at most this late */
  checkIntervalMs: number
  /** at shutdown, how long a request in flight may still take before its connection is cut */
  shutdownGraceMs: number
}

export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 20_000, keepAliveMs: 72_000, checkIntervalMs: 1_000, shutdownGraceMs: 1_000 }

export interface AppOptions {
  /** Settings; process.env when absent. */
  env?: Record<string, string | undefined>
  /** The time source; the system clock when absent. Tests pass a fake one. */
  clock?: Clock
  logger?: FastifyServerOptions['logger']
  /** Tests shorten these to watch a slow client being cut. */
  httpTimeouts?: HttpTimeouts
}

export function buildApp ({ env, clock: time, logger = false, httpTimeouts = HTTP_TIMEOUTS }: AppOptions = {}): FastifyInstance {
  const app: FastifyInstance = Fastify({
    logger,
    // A session_id of 42 is a client bug to report, not a string to coerce.
    ajv: { customOptions: { coerceTypes: false } },
    // What Fastify rejects before routing (a malformed URL) leaves in the one error shape too.
    frameworkErrors: replyWithError,
    // Fastify wants this at construction, before the config plugin has validated CC_LIVE_TRUST_PROXY;
    // a function that asks the validated setting keeps one parser and one source of truth.
    trustProxy: (address, hop) => app.config.trustsProxy(address, hop),
    requestTimeout: httpTimeouts.requestMs,
    keepAliveTimeout: httpTimeouts.keepAliveMs,
    http: { headersTimeout: httpTimeouts.headersMs, connectionsCheckingInterval: httpTimeouts.checkIntervalMs }
  })
  app.register(errors)
  app.register(drainConnections, { graceMs: httpTimeouts.shutdownGraceMs })
  app.register(config, { env })
  app.register(clock, { clock: time })
  app.register(connectionLimit)
  app.register(redis)
  app.register(liveState)
  // Before the state file, so that the history hears the sessions it restores.
  app.register(history)
  app.register(stateFile)
  app.register(viewerAdmission)
  app.register(websocketViewers)
  app.register(sse)
  app.register(api, { prefix: '/api/live' })
  app.register(live)
  app.register(widget)
  app.register(historyRoutes)
  app.register(health)
  return app
}
