import fp from 'fastify-plugin'
import { SseStreamSet } from '../src/sse-streams.js'

declare module 'fastify' {
  interface FastifyInstance {
    sseStreams: SseStreamSet
  }
}

/** State events are under 100 bytes: a stream this far behind has stopped reading. */
const MAX_BUFFERED_BYTES = 64 * 1024
/** For plain EventSource clients; the cc-live client closes on error and uses its own jittered backoff. */
const RETRY_MS = 5000

/** Holds the Server-Sent Events streams, feeds them every state change and keeps them alive. */
export default fp(async function sse (fastify) {
  const streams = new SseStreamSet({ maxBufferedBytes: MAX_BUFFERED_BYTES, retryMs: RETRY_MS, limits: fastify.viewerLimits })
  fastify.decorate('sseStreams', streams)

  const unsubscribe = fastify.liveState.onChange((snapshot) => streams.broadcast(snapshot))
  // The WebSocket ping period: the same proxies sit in front of both.
  const keepalive = setInterval(() => streams.keepalive(), fastify.config.CC_LIVE_PING_SECONDS * 1000)
  // Before the server closes: an open stream is never idle, so server.close() would wait on it for ever.
  fastify.addHook('preClose', async () => {
    clearInterval(keepalive)
    unsubscribe()
    streams.closeAll()
  })
}, { name: 'sse', dependencies: ['config', 'live-state', 'viewers'] })
