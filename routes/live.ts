import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { wantsEventStream } from '../src/viewers/sse-streams.ts'
import { CLOSE_TRY_AGAIN_LATER } from '../src/viewers/websockets.ts'
import { openEventStream, SSE_HEADERS } from './event-stream.ts'
import { sendSnapshot } from './snapshot-reply.ts'

/**
 * After the handshake, @fastify/websocket leaves the upgrade's request, reply, ServerResponse and
 * child logger reachable from the open socket: through its per-socket error listener (a closure
 * over them) and through the TCP socket's link to the ServerResponse (Node's private
 * `_httpMessage`). That doubled the heap per idle viewer (docs/performance.md), so both links are
 * cut here. Verified against @fastify/websocket 11.3 and Node.js 26, which package.json pins with
 * `~`; test/plugins/viewers-socket.test.ts proves with WeakRefs that the request is collected.
 */
function forgetUpgrade (socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error')
  const tcp = request.raw.socket as (Socket & { _httpMessage?: ServerResponse | null }) | undefined
  if (tcp?._httpMessage) tcp._httpMessage.detachSocket(tcp)
}

/**
 * Runs `join`, which hands the viewer's place to a viewer set (which gives it back when the viewer
 * leaves); if anything throws before that, the place is given back here.
 */
function joinOrRelease (release: () => void, join: () => void): void {
  try {
    join()
  } catch (error) {
    release()
    throw error
  }
}

/** Whether a request asks to become a viewer: a WebSocket upgrade or an event stream (never a HEAD). */
function isViewer (request: FastifyRequest): boolean {
  return request.ws || (request.method === 'GET' && wantsEventStream(request.headers.accept))
}

/** The public endpoint: WebSocket viewers, an SSE stream for `Accept: text/event-stream`, else a JSON snapshot. */
const live: FastifyPluginAsync = async function live (fastify) {
  const { viewerAdmission, viewers, sseStreams, liveState, clock } = fastify
  // One listener for every viewer in place of the library's closure per socket; ws needs one to be attached.
  const onViewerError = function (this: WebSocket, error: Error) {
    fastify.log.info({ reason: error.message }, 'viewer cut after a socket error')
    this.terminate()
  }
  // The same for event streams taken over from node:http; the socket is already being destroyed.
  const onStreamError = function (error: Error) {
    fastify.log.info({ reason: error.message }, 'event stream cut after a socket error')
  }

  fastify.route({
    method: 'GET',
    url: '/ws/live',
    // Refuses before the upgrade or the stream, with an HTTP answer a browser can show. Takes no place:
    // the handler does, at the moment the viewer joins.
    onRequest: async (request, reply) => {
      if (!isViewer(request)) return
      const refusal = viewerAdmission.refusal(request.ip, request.headers.origin)
      if (refusal !== null) return reply.sendError(refusal)
    },
    handler: async (request, reply) => {
      if (request.method === 'HEAD' && wantsEventStream(request.headers.accept)) return reply.headers(SSE_HEADERS).send()
      if (!isViewer(request)) return sendSnapshot(reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*'), liveState.snapshot)
      // The check before the handler passed; another viewer may have taken the last place since.
      const admission = viewerAdmission.admit(request.ip, request.headers.origin)
      if (admission.refusal !== undefined) return reply.sendError(admission.refusal)
      joinOrRelease(admission.release, () => {
        const stream = openEventStream(reply, new Date(clock.wallNow()), onStreamError)
        sseStreams.add(stream, liveState.snapshot, admission.release, request.raw.socket)
      })
    },
    wsHandler: (socket, request) => {
      const admission = viewerAdmission.admit(request.ip, request.headers.origin)
      if (admission.refusal !== undefined) {
        socket.on('error', onViewerError)
        socket.close(CLOSE_TRY_AGAIN_LATER, 'too many viewers')
        return
      }
      joinOrRelease(admission.release, () => {
        forgetUpgrade(socket, request)
        socket.on('error', onViewerError)
        viewers.add(socket, liveState.snapshot, admission.release)
      })
    }
  })
}

export default live
