import { PassThrough } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import { refuseViewer } from '../plugins/viewer-admission.js'
import { wantsEventStream } from '../src/sse-streams.js'
import { sendSnapshot } from './snapshot-reply.js'

/** The public endpoint: WebSocket viewers, an SSE stream for `Accept: text/event-stream`, else a JSON snapshot. */
const live: FastifyPluginAsync = async function live (fastify) {
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
    wsHandler: (socket, request) => { fastify.viewers.add(socket, fastify.liveState.snapshot, request.ip) }
  })
}

export default live
