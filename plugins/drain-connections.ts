import type { Socket } from 'node:net'
import fp from 'fastify-plugin'

/**
 * Keeps idle HTTP connections from holding shutdown open; server.close() waits for every
 * connection that is not idle.
 * - A request in flight at SIGTERM is answered with `Connection: close`, so its keep-alive socket
 *   ends with it instead of lingering until the keep-alive timeout.
 * - Browsers open spare connections (Chromium does for every page that loads the widget) and may
 *   never send a request on them; such a connection does not count as idle and would hold the
 *   shutdown until headersTimeout. Nothing was sent on them, so they are simply destroyed.
 */
export default fp(async function drainConnections (fastify) {
  let closing = false
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
    closing = true
    for (const socket of spare) socket.destroy()
  })
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
}, { name: 'drain-connections' })
