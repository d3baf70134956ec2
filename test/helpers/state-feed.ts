import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { WebSocketServer, type WebSocket } from 'ws'

/**
 * A stand-in for /ws/live that plays crafted states over WebSocket: for states the service cannot
 * produce on demand. Each new viewer gets the last state published (none before the first); drop()
 * cuts every viewer and refuses new ones. Closed when the test ends.
 */
export async function startStateFeed (t: Test): Promise<{ url: string, publish: (state: object) => void, drop: () => Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((resolve) => server.once('listening', resolve))
  let last: string | undefined
  const viewers = new Set<WebSocket>()
  server.on('connection', (socket) => {
    viewers.add(socket)
    socket.once('close', () => viewers.delete(socket))
    if (last !== undefined) socket.send(last)
  })
  const close = () => new Promise<void>((resolve) => {
    for (const socket of viewers) socket.terminate()
    server.close(() => resolve())
  })
  t.teardown(close)
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/live`,
    publish (state) {
      last = JSON.stringify(state)
      for (const socket of viewers) socket.send(last)
    },
    drop: close
  }
}
