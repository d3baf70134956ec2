import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply } from 'fastify'
import { takeOverConnection } from '../src/viewers/http-takeover.ts'
import type { SseStream } from '../src/viewers/sse-streams.ts'

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'access-control-allow-origin': '*',
  // Tells nginx-style proxies not to hold events back in a buffer.
  'x-accel-buffering': 'no'
}

/**
 * The head of a stream written straight to its socket. Its body runs until the connection closes
 * (RFC 9112 §6.3: no length, no chunked coding), so events go out as they are, to HTTP/1.0 and
 * 1.1 clients alike, and ending the socket ends the stream.
 */
function eventStreamHead (date: string): string {
  const fields = Object.entries({ ...SSE_HEADERS, date, connection: 'close' }).map(([name, value]) => `${name}: ${value}\r\n`)
  return `HTTP/1.1 200 OK\r\n${fields.join('')}\r\n`
}

/** A peer's end of the connection ends the stream, as node:http would have ended the connection. */
function endWithPeer (this: Socket): void {
  this.end()
}

/**
 * Once the stream's last bytes are out, the connection closes without waiting for the peer's end:
 * node:http's sockets are half-open (allowHalfOpen), and a client that never ends its side would
 * otherwise hold the server's close() open for ever.
 */
function closeWhenSent (this: Socket): void {
  this.destroy()
}

/**
 * Fastify keeps the reply (and through it the request and its child logger) reachable from the
 * response's `finish` and `error` listeners until the response ends, which for an event stream is
 * when the viewer leaves. The stream is written to the raw response, so those listeners go (with
 * them the "request completed" line, which a WebSocket viewer does not get either).
 */
function forgetReply (reply: FastifyReply): ServerResponse {
  const response = reply.raw
  for (const event of ['finish', 'error'] as const) {
    for (const listener of response.listeners(event)) {
      if (listener.name === 'onResFinished') response.removeListener(event, listener as () => void)
    }
  }
  return response
}

/**
 * Turns the reply into an open event stream, its head sent. The connection is taken over from
 * node:http (src/viewers/http-takeover.ts), so the stream is its bare socket and nothing of the request
 * stays reachable; where that cannot be done (a request whose body is still arriving) the stream is
 * the raw response, which node:http frames. `onError` is called, with the socket as `this`, when a
 * taken-over socket fails (it is destroyed either way, and closes).
 */
export function openEventStream (reply: FastifyReply, date: Date, onError: (this: Socket, error: Error) => void): SseStream {
  reply.hijack()
  const socket = takeOverConnection(reply.request.raw, reply.raw)
  if (socket === null) {
    const response = forgetReply(reply)
    response.writeHead(200, SSE_HEADERS)
    return response
  }
  socket.on('error', onError)
  socket.on('end', endWithPeer)
  socket.on('finish', closeWhenSent)
  socket.write(eventStreamHead(date.toUTCString()))
  return socket
}
