import { once } from 'node:events'
import { createConnection, createServer, type Socket } from 'node:net'
import type { Test } from 'tap'

export interface RoundRobinProxy {
  port: number
  /** The ports connections are spread over, in turn; change it as replicas come and go. */
  backends: number[]
}

/**
 * A TCP load balancer on 127.0.0.1 with no stickiness, like Traefik in front of replicas: each
 * connection goes to the next backend in turn, and to the one after if that refuses (a replica
 * that is down). A backend connection that ends ends the client's, as a proxy's would.
 */
export async function startRoundRobinProxy (t: Test, backends: number[]): Promise<RoundRobinProxy> {
  let next = 0
  const proxy: RoundRobinProxy = { port: 0, backends }
  const open = new Set<Socket>()
  const server = createServer((client) => {
    open.add(client)
    client.once('close', () => open.delete(client))
    client.on('error', () => client.destroy())
    client.pause()
    const tryBackend = (attemptsLeft: number) => {
      const port = proxy.backends[next++ % Math.max(1, proxy.backends.length)]
      if (port === undefined || attemptsLeft === 0) {
        client.destroy()
        return
      }
      const upstream = createConnection({ host: '127.0.0.1', port })
      let connected = false
      upstream.on('error', () => {
        upstream.destroy()
        if (!connected) tryBackend(attemptsLeft - 1)
      })
      upstream.once('connect', () => {
        connected = true
        open.add(upstream)
        upstream.once('close', () => { open.delete(upstream); client.destroy() })
        client.once('close', () => upstream.destroy())
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
    }
    tryBackend(proxy.backends.length)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  proxy.port = (server.address() as { port: number }).port
  t.teardown(() => {
    for (const socket of open) socket.destroy()
    server.close()
  })
  return proxy
}
