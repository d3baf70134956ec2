import fp from 'fastify-plugin'
import { MAX_VIEWER_BACKLOG_BYTES, feedViewers } from '../src/viewers/feed.ts'
import { SseStreamSet } from '../src/viewers/sse-streams.ts'

declare module 'fastify' {
  interface FastifyInstance {
    sseStreams: SseStreamSet
  }
}

/** For plain EventSource clients; the cc-live client closes on error and uses its own jittered backoff. */
const RETRY_MS = 5000

/** The set of open Server-Sent Events streams, fed every state change and kept alive. */
export default fp(async function sse (fastify) {
  const streams = new SseStreamSet({ maxBufferedBytes: MAX_VIEWER_BACKLOG_BYTES, retryMs: RETRY_MS })
  fastify.decorate('sseStreams', streams)
  // The WebSocket ping period: the same proxies sit in front of both. Closed before the server
  // closes: an open stream is never idle, so server.close() would wait on it for ever.
  fastify.addHook('preClose', feedViewers(fastify.liveState, streams, fastify.config.pingMs))
}, { name: 'sse', dependencies: ['config', 'live-state', 'viewer-admission'] })
