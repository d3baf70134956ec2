import type { FastifyPluginAsync } from 'fastify'
import { sendSnapshot } from './snapshot-reply.js'

/** The public endpoint: WebSocket viewers, or a JSON snapshot for a plain GET. */
const live: FastifyPluginAsync = async function live (fastify) {
  fastify.route({
    method: 'GET',
    url: '/ws/live',
    handler: async (_request, reply) => {
      reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*')
      return sendSnapshot(reply, fastify.liveState.snapshot)
    },
    wsHandler: (socket, request) => { fastify.viewers.add(socket, fastify.liveState.snapshot, request.ip) }
  })
}

export default live
