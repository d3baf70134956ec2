import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { refuseViewer } from '../plugins/viewer-admission.js'
import { wantsEventStream } from '../src/sse-streams.js'
import { sendSnapshot } from './snapshot-reply.js'

/**
 * After the handshake, @fastify/websocket leaves the upgrade's request, reply,
 * ServerResponse and child logger reachable from the open socket: through its
 * per-socket error listener (a closure over them) and through the TCP socket's
 * link to the ServerResponse. That doubled the heap per idle viewer (see the
 * README's Performance section), so both links are cut here.
 */
function forgetUpgrade (socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error')
  const tcp = request.raw.socket as (Socket & { _httpMessage?: ServerResponse | null }) | undefined
  if (tcp?._httpMessage) tcp._httpMessage.detachSocket(tcp)
}

/** The public endpoint: WebSocket viewers, an SSE stream for `Accept: text/event-stream`, else a JSON snapshot. */
const live: FastifyPluginAsync = async function live (fastify) {
  // One listener for every viewer in place of the library's closure per socket; ws needs one to be attached.
  const onViewerError = function (this: WebSocket, error: Error) {
    fastify.log.info({ reason: error.message }, 'viewer cut after a socket error')
    this.terminate()
  }

  fastify.route({
    method: 'GET',
    url: '/ws/live',
    onRequest: fastify.admitViewer,
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*')
      if (!wantsEventStream(request.headers.accept)) return sendSnapshot(reply, fastify.liveState.snapshot)
      const stream = new PassThrough()
      // The caps were checked before the handler; another stream may have taken the last place since.
      if (!fastify.sseStreams.add(stream, fastify.liveState.snapshot, request.ip)) return refuseViewer(reply)
      // Tells nginx-style proxies not to hold events back in a buffer.
      return reply.type('text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(stream)
    },
    wsHandler: (socket, request) => {
      const address = request.ip
      forgetUpgrade(socket, request)
      socket.on('error', onViewerError)
      fastify.viewers.add(socket, fastify.liveState.snapshot, address)
    }
  })
}

export default live
