import type { Socket } from 'node:net'
import fp from 'fastify-plugin'

export interface DrainConnectionsOptions {
  /** From the start of shutdown, how long requests in flight may take before their connections are cut. */
  graceMs: number
}

/**
 * Keeps HTTP connections from holding shutdown open; server.close() waits for every
 * connection that is not idle.
 * - A request in flight at SIGTERM is answered with `Connection: close`, so its keep-alive socket
 *   ends with it instead of lingering until the keep-alive timeout.
 * - Browsers open spare connections (Chromium does for every page that loads the widget) and may
 *   never send a request on them; such a connection does not count as idle and would hold the
 *   shutdown until headersTimeout. Nothing was sent on them, so they are simply destroyed.
 * - A request still incomplete after the grace (a body dribbled a byte at a time would otherwise
 *   hold close() to the request timeout) is cut: every HTTP connection left is destroyed.
 *   Upgraded ones (WebSocket viewers) are not HTTP connections any more; the viewers plugin
 *   closes those with 1001.
 */
export default fp<DrainConnectionsOptions>(async function drainConnections (fastify, { graceMs }) {
  let closing = false
  let cutAfterGrace: NodeJS.Timeout | undefined
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
    cutAfterGrace = setTimeout(() => {
      fastify.log.warn({ graceMs }, 'shutdown grace over: cutting requests still in flight')
      fastify.server.closeAllConnections()
    }, graceMs).unref()
  })
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
  // onClose runs once the server has closed: with nothing left to cut, the timer must not fire.
  fastify.addHook('onClose', async () => clearTimeout(cutAfterGrace))
}, { name: 'drain-connections' })
