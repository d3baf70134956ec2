import fastifyWebsocket from '@fastify/websocket'
import fp from 'fastify-plugin'
import { MAX_VIEWER_BACKLOG_BYTES, feedViewers } from '../src/viewers/feed.ts'
import { ViewerSet } from '../src/viewers/websockets.ts'

declare module 'fastify' {
  interface FastifyInstance {
    viewers: ViewerSet
  }
}

/** Viewers only listen; anything larger than this from one of them is abuse and closes it (1009). */
const MAX_VIEWER_FRAME_BYTES = 1024
/**
 * Browsers send nothing but pongs; a client library's own keepalive might send a message
 * every second or so. Twenty frames in ten seconds allows that and cuts a flood at once.
 */
const MAX_VIEWER_FRAMES = 20
const VIEWER_FRAME_WINDOW_MS = 10_000
const SHUTDOWN_CLOSE_TIMEOUT_MS = 2000

/** @fastify/websocket and the set of open WebSocket viewers, fed every state change and pinged. */
export default fp(async function websocketViewers (fastify) {
  const viewerSet = new ViewerSet({
    maxBufferedBytes: MAX_VIEWER_BACKLOG_BYTES,
    maxFramesPerWindow: MAX_VIEWER_FRAMES,
    frameWindowMs: VIEWER_FRAME_WINDOW_MS,
    closeTimeoutMs: SHUTDOWN_CLOSE_TIMEOUT_MS,
    clock: fastify.clock
  })
  fastify.decorate('viewers', viewerSet)
  await fastify.register(fastifyWebsocket, {
    options: { maxPayload: MAX_VIEWER_FRAME_BYTES, clientTracking: false },
    // In place of the library's default close (code 1005): Going Away, so browsers know to reconnect.
    preClose: feedViewers(fastify.liveState, viewerSet, fastify.config.pingMs)
  })
}, { name: 'websocket-viewers', dependencies: ['config', 'clock', 'live-state', 'viewer-admission'] })
