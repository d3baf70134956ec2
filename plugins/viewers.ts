import fastifyWebsocket from '@fastify/websocket'
import fp from 'fastify-plugin'
import type { Clock } from '../src/clock.js'
import { ViewerLimits } from '../src/viewer-limits.js'
import { ViewerSet } from '../src/viewers.js'

declare module 'fastify' {
  interface FastifyInstance {
    viewers: ViewerSet
    /** The viewer caps, counted across WebSocket and SSE alike. */
    viewerLimits: ViewerLimits
  }
}

/** Viewers only listen; anything larger than this from one of them is abuse and closes it (1009). */
const MAX_VIEWER_FRAME_BYTES = 1024
/** State messages are under 100 bytes: a viewer this far behind has stopped reading. */
const MAX_BUFFERED_BYTES = 64 * 1024
/**
 * Browsers send nothing but pongs; a client library's own keepalive might send a message
 * every second or so. Twenty frames in ten seconds allows that and cuts a flood at once.
 */
const MAX_VIEWER_FRAMES = 20
const VIEWER_FRAME_WINDOW_MS = 10_000
const CLOSE_GOING_AWAY = 1001
const SHUTDOWN_CLOSE_TIMEOUT_MS = 2000

export interface ViewersPluginOptions {
  clock?: Clock
}

/** Holds the open WebSocket viewers, feeds them every state change and keeps them alive. */
export default fp<ViewersPluginOptions>(async function viewers (fastify, { clock }) {
  const limits = new ViewerLimits({ maxViewers: fastify.config.CC_LIVE_MAX_VIEWERS, maxViewersPerAddress: fastify.config.CC_LIVE_MAX_VIEWERS_PER_IP })
  fastify.decorate('viewerLimits', limits)
  const viewerSet = new ViewerSet({
    maxBufferedBytes: MAX_BUFFERED_BYTES,
    limits,
    maxFramesPerWindow: MAX_VIEWER_FRAMES,
    frameWindowMs: VIEWER_FRAME_WINDOW_MS,
    clock
  })
  fastify.decorate('viewers', viewerSet)

  await fastify.register(fastifyWebsocket, {
    options: { maxPayload: MAX_VIEWER_FRAME_BYTES, clientTracking: false },
    // Replaces the default close (code 1005) with Going Away, so browsers know to reconnect.
    preClose: async () => viewerSet.closeAll(CLOSE_GOING_AWAY, 'server shutting down', SHUTDOWN_CLOSE_TIMEOUT_MS)
  })

  const unsubscribe = fastify.liveState.onChange((snapshot) => viewerSet.broadcast(snapshot))
  const keepalive = setInterval(() => viewerSet.sweep(), fastify.config.CC_LIVE_PING_SECONDS * 1000)
  fastify.addHook('onClose', async () => {
    clearInterval(keepalive)
    unsubscribe()
  })
}, { name: 'viewers', dependencies: ['config', 'live-state'] })
