import { PassThrough } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import { sendSnapshot } from './snapshot-reply.js'

/** The public endpoint: WebSocket viewers, an SSE stream for `Accept: text/event-stream`, else a JSON snapshot. */
const live: FastifyPluginAsync = async function live (fastify) {
  fastify.route({
    method: 'GET',
    url: '/ws/live',
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*')
      if (!request.headers.accept?.includes('text/event-stream')) return sendSnapshot(reply, fastify.liveState.snapshot)
      const stream = new PassThrough()
      fastify.sseStreams.add(stream, fastify.liveState.snapshot)
      // Tells nginx-style proxies not to hold events back in a buffer.
      return reply.type('text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(stream)
    },
    wsHandler: (socket, request) => { fastify.viewers.add(socket, fastify.liveState.snapshot, request.ip) }
  })
}

export default live
