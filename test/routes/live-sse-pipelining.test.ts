import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/app.ts'
import { openEventStream } from '../helpers/event-stream.ts'
import { openRawConnection } from '../helpers/raw-connection.ts'
import { OFFLINE as OFFLINE_STATE } from '../helpers/states.ts'

const OFFLINE = JSON.stringify(OFFLINE_STATE)
const STREAM_REQUEST = 'GET /ws/live HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n\r\n'
const HEALTH_REQUEST = 'GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n'

async function listen (t: Test, env: Record<string, string> = {}) {
  const app = await buildTestApp(t, { env })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const sockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => sockets.push(socket))
  return { app, port: Number(new URL(address).port), sockets }
}

/** When a server-side socket has closed, however it ended. */
const closeOf = (socket: Socket | undefined) => new Promise((resolve) => {
  if (socket === undefined || socket.closed) resolve(undefined)
  else socket.once('close', resolve)
})

t.test('a request pipelined before an event stream: both answered in order, and closing gives the place back', async (t) => {
  const { app, port, sockets } = await listen(t)
  const connection = await openRawConnection(port)
  t.teardown(() => connection.socket.destroy())
  connection.socket.write(HEALTH_REQUEST + STREAM_REQUEST)
  const received = await connection.until(`data: ${OFFLINE}\n\n`)
  t.match(received, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{"status":"ok"[^]*HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/event-stream/i, 'the health answer first, then the stream')
  t.equal(app.viewerAdmission.viewers, 1)
  app.liveState.heartbeat({ sessionId: 'a' })
  await connection.until(`${app.liveState.snapshot.json}`)
  const closed = closeOf(sockets[0])
  connection.socket.destroy()
  await closed
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
})

t.test('a request pipelined before an event stream, the connection closed at once: no place kept', async (t) => {
  const { app, port, sockets } = await listen(t)
  const connection = await openRawConnection(port)
  connection.socket.end(HEALTH_REQUEST + STREAM_REQUEST)
  await connection.ended
  await closeOf(sockets[0])
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
})

t.test('requests pipelined after an event stream: the stream runs, and closing gives back every place taken', async (t) => {
  const { app, port, sockets } = await listen(t)
  const connection = await openRawConnection(port)
  connection.socket.write(STREAM_REQUEST + HEALTH_REQUEST + STREAM_REQUEST)
  await connection.until(`data: ${OFFLINE}\n\n`)
  t.match(connection.received, /^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/event-stream/i, 'the stream answers first')
  app.liveState.heartbeat({ sessionId: 'a' })
  await connection.until(`${app.liveState.snapshot.json}`)
  const closed = closeOf(sockets[0])
  connection.socket.destroy()
  await closed
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
})

t.test('many connections that pipeline around an event stream and close leave the address free to subscribe', async (t) => {
  const { app, port, sockets } = await listen(t, { CC_LIVE_MAX_VIEWERS_PER_IP: '5' })
  const orders = [HEALTH_REQUEST + STREAM_REQUEST, STREAM_REQUEST + HEALTH_REQUEST, STREAM_REQUEST + STREAM_REQUEST, HEALTH_REQUEST + STREAM_REQUEST + STREAM_REQUEST]
  for (let round = 0; round < 20; round++) {
    const connection = await openRawConnection(port)
    connection.socket.end(orders[round % orders.length] as string)
    await connection.ended
    await closeOf(sockets.at(-1))
  }
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
  const stream = await openEventStream(`http://127.0.0.1:${port}/ws/live`)
  t.teardown(stream.close)
  t.equal(stream.response.statusCode, 200)
  t.equal(await stream.next(), 'retry: 5000')
})

t.test('a stream that fails to open gives its place back', async (t) => {
  const { app, port } = await listen(t)
  app.sseStreams.add = () => { throw new Error('the stream could not open') }
  const connection = await openRawConnection(port)
  connection.socket.end(STREAM_REQUEST)
  await connection.ended
  t.equal(app.viewerAdmission.viewers, 0)
})
