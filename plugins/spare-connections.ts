import type { Socket } from 'node:net'
import fp from 'fastify-plugin'

/**
 * Browsers open spare connections (Chromium does for every page that loads the widget) and may never
 * send a request on them. server.close() waits for every connection that is not idle, and one that
 * never carried a request does not count as idle, so a single open tab could hold shutdown until
 * headersTimeout. Those connections are closed just before the server closes; nothing was sent on them.
 */
export default fp(async function spareConnections (fastify) {
  const spare = new Set<Socket>()
  const used = (request: { socket: Socket }) => spare.delete(request.socket)
  fastify.server
    .on('connection', (socket: Socket) => {
      spare.add(socket)
      socket.once('close', () => spare.delete(socket))
    })
    .on('request', used)
    .on('upgrade', used)
  fastify.addHook('preClose', async () => {
    for (const socket of spare) socket.destroy()
  })
}, { name: 'spare-connections' })
