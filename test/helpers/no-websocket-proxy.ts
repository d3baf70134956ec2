import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface ProxyOptions {
  /** Also refuse `Accept: text/event-stream`, leaving only plain requests to get through. */
  refuseEventStream?: boolean
}

/**
 * A reverse proxy to `target` of the kind that breaks live dots: it refuses every WebSocket
 * upgrade, and optionally SSE. Plain requests and responses stream through. Closed when the test ends.
 */
export async function startNoWebSocketProxy (t: Test, target: string, { refuseEventStream = false }: ProxyOptions = {}): Promise<string> {
  const server = createServer((incoming, outgoing) => {
    if (refuseEventStream && incoming.headers.accept?.includes('text/event-stream')) {
      outgoing.writeHead(502).end()
      return
    }
    const upstream = request(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers, agent: false }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers)
      response.pipe(outgoing)
    })
    upstream.once('error', () => outgoing.destroy())
    outgoing.once('close', () => upstream.destroy())
    incoming.pipe(upstream)
  })
  server.on('upgrade', (_request, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => {
    server.close(resolve)
    server.closeAllConnections()
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
