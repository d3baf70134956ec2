import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { freeParser, NODE_CONNECTION_LISTENERS, takeOverConnection } from '../../../src/viewers/http-takeover.ts'
import { openRawConnection, type RawConnection } from '../../helpers/raw-connection.ts'
import { collectGarbage } from '../../helpers/retention.ts'

const GET = 'GET / HTTP/1.1\r\nhost: test\r\n\r\n'

/** A bare node:http server on loopback that passes each request to `handle`, and a raw connection to it. */
async function serve (t: Test, handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<RawConnection> {
  const server = createServer(handle)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const connection = await openRawConnection((server.address() as AddressInfo).port)
  t.teardown(() => connection.socket.destroy())
  return connection
}

const parserOf = (socket: Socket) => (socket as Socket & { parser?: unknown }).parser
const nodeListenersOn = (socket: Socket) => NODE_CONNECTION_LISTENERS
  .filter(([event, name]) => socket.listeners(event).some((listener) => listener.name === name))
  .map(([event, name]) => `${event}: ${name}`)

t.test('the node:http internals the takeover relies on are there, as Node.js 26 has them', async (t) => {
  t.type(freeParser, 'function', '_http_common exports freeParser')
  let seen: { parser: unknown, listeners: string[] } | undefined
  const connection = await serve(t, (request, response) => {
    seen = { parser: parserOf(request.socket), listeners: nodeListenersOn(request.socket) }
    response.end('ok')
  })
  connection.socket.write(GET)
  await connection.until('ok')
  t.type(seen?.parser, 'object', 'the connection\'s socket has its HTTPParser as `parser`')
  t.same(seen?.listeners, NODE_CONNECTION_LISTENERS.map(([event, name]) => `${event}: ${name}`), 'every listener the server puts on a connection, found by its name')
})

t.test('a taken-over connection keeps nothing of node:http, and its socket is the caller\'s to write', async (t) => {
  let taken: Socket | null = null
  let refs: WeakRef<object>[] = []
  const connection = await serve(t, (request, response) => queueMicrotask(() => {
    refs = [new WeakRef(request), new WeakRef(response)]
    taken = takeOverConnection(request, response)
    taken?.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nfirst\n')
  }))
  connection.socket.write(GET)
  await connection.until('first\n')
  const socket = taken as Socket | null
  if (socket === null) throw new Error('not taken over')
  t.equal(parserOf(socket), null, 'the parser was given back')
  t.same(nodeListenersOn(socket), [], 'the server\'s listeners are gone')
  await nextTurn()
  collectGarbage()
  t.same(refs.map((ref) => ref.deref() === undefined), [true, true], 'the request and response were collected while the connection stays open')

  // What the client sends now is no request to node:http any more: nothing answers it, nothing breaks.
  connection.socket.write(GET)
  socket.write('second\n')
  t.equal(await connection.until('second\n'), 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nfirst\nsecond\n')
  const peerEnded = once(socket, 'end')
  connection.socket.end()
  await peerEnded
  t.pass('the socket still reads, so the client\'s end is seen')
})

t.test('a request whose body is still arriving stays with node:http, unchanged', async (t) => {
  let taken: Socket | null | undefined
  let parser: unknown
  let handled = () => {}
  const inHandler = new Promise<void>((resolve) => { handled = resolve })
  const connection = await serve(t, (request, response) => queueMicrotask(() => {
    taken = takeOverConnection(request, response)
    parser = parserOf(request.socket)
    request.resume().once('end', () => response.end('answered by node:http'))
    handled()
  }))
  connection.socket.write('POST / HTTP/1.1\r\nhost: test\r\ncontent-length: 8\r\n\r\nhalf')
  await inHandler
  connection.socket.write('more')
  await connection.until('answered by node:http')
  t.equal(taken, null)
  t.type(parser, 'object', 'the parser stayed')
})

t.test('a response that has sent its head stays with node:http, unchanged', async (t) => {
  let taken: Socket | null | undefined
  const connection = await serve(t, (request, response) => queueMicrotask(() => {
    response.writeHead(200, { 'content-length': '2' }).flushHeaders()
    taken = takeOverConnection(request, response)
    response.end('ok')
  }))
  connection.socket.write(GET)
  await connection.until('\r\n\r\nok')
  t.equal(taken, null)
})

t.test('a handler called from within the parser, before it has read the whole request, gets null: the parser is never given back while it runs', async (t) => {
  let taken: Socket | null | undefined
  const connection = await serve(t, (request, response) => {
    taken = takeOverConnection(request, response)
    response.end('ok')
  })
  connection.socket.write(GET)
  await connection.until('\r\n\r\nok')
  t.equal(taken, null)
})
