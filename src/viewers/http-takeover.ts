import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'

/**
 * Hands an HTTP connection over from node:http to its caller the way node:http hands over an
 * upgraded one (a WebSocket): the server's per-connection listeners removed, the HTTP parser given
 * back to Node's pool, the response detached. From then on the caller owns the raw socket and node:http
 * keeps nothing of the connection: no parser (with its native state), no request, no response, no
 * place in the list the server checks for timeouts. A connection left with node:http costs about
 * 12 KiB more per idle event stream (docs/performance.md).
 *
 * node:http offers no public way to do this for a plain request, so this relies on its internals,
 * as found in Node.js 26 (lib/_http_server.js, connectionListenerInternal and onParserExecuteCommon):
 * - `socket.parser`, the connection's HTTPParser;
 * - the eight listeners the server puts on every connection, known by their function names;
 * - `freeParser` from `_http_common`, the very function the upgrade path uses.
 * When any of them is not as expected, nothing is changed and null is returned: the caller keeps
 * the response, which works and only costs more. test/src/viewers/http-takeover.test.ts pins each of them,
 * so a Node.js release that changes them fails the tests rather than quietly costing memory.
 */

/** Opaque here: only handed back to Node's freeParser. */
type HttpParser = object

type FreeParser = (parser: HttpParser, request: IncomingMessage, socket: Socket) => void

type HttpSocket = Socket & { parser?: HttpParser | null }

/** What node:http's server listens for on each connection, by event: the listener's function name. */
export const NODE_CONNECTION_LISTENERS = [
  ['data', 'bound socketOnData'],
  ['end', 'bound socketOnEnd'],
  ['close', 'bound socketOnClose'],
  ['drain', 'bound socketOnDrain'],
  ['error', 'socketOnError'],
  ['timeout', 'socketOnTimeout'],
  ['resume', 'onSocketResume'],
  ['pause', 'onSocketPause']
] as const

type Listener = (...args: unknown[]) => void

/** Node's own freeParser, or undefined if this Node.js has no such module or function. */
export const freeParser: FreeParser | undefined = (() => {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { freeParser?: unknown }
    return typeof common.freeParser === 'function' ? common.freeParser as FreeParser : undefined
  } catch {
    return undefined
  }
})()

/**
 * Takes the connection of a complete request whose response owns the socket and has sent nothing yet away from
 * node:http, as an upgrade does; returns its socket, or null (nothing changed) when that cannot be
 * done. The caller then writes the response itself, and must listen for 'error' at once: node:http
 * no longer does. The socket is left reading, so the peer's end and errors are still seen.
 *
 * A request is complete only once the parser has read all of it, and a handler called from within
 * the parser (synchronously on 'request', before the end of the request is parsed) sees it
 * incomplete: so the parser is never given back while it is still running. Fastify's handlers run
 * later, after the route's asynchronous hooks, when the parser has returned.
 */
export function takeOverConnection (request: IncomingMessage, response: ServerResponse): Socket | null {
  const socket = request.socket as HttpSocket
  const parser = socket.parser
  // A response queued behind an earlier one on the same connection (pipelining) does not own the
  // socket yet: taking it would leave that earlier response, and this one, nowhere to go.
  if (freeParser === undefined || parser == null || !request.complete || response.headersSent || socket.destroyed || response.socket !== socket) return null
  const listeners = NODE_CONNECTION_LISTENERS.map(([event, name]) => {
    const listener = socket.listeners(event).find((candidate) => candidate.name === name)
    return [event, listener as Listener | undefined] as const
  })
  if (listeners.some(([, listener]) => listener === undefined)) return null
  for (const [event, listener] of listeners) socket.removeListener(event, listener as Listener)
  // As onParserExecuteCommon does for an upgrade once the request is complete.
  freeParser(parser, request, socket)
  response.detachSocket(socket)
  socket.resume()
  return socket
}
