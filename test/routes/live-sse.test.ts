import type { Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { AUTH, buildTestApp } from '../helpers/app.ts'
import { openEventStream } from '../helpers/event-stream.ts'
import { httpCall } from '../helpers/http-call.ts'
import { openRawConnection } from '../helpers/raw-connection.ts'
import { OFFLINE as OFFLINE_STATE } from '../helpers/states.ts'
import { closeCode, connectViewer } from '../helpers/viewer.ts'
import { appTrackingRequests, collectGarbage, reachable } from '../helpers/retention.ts'

const OFFLINE = JSON.stringify(OFFLINE_STATE)

async function listen (t: Test, env: Record<string, string> = {}) {
  const app = await buildTestApp(t, { env })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, address }
}

/** The server's side of every connection the app accepts from now on, in order. */
function serverSockets (app: FastifyInstance): Socket[] {
  const sockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => sockets.push(socket))
  return sockets
}

/** When a server-side socket has closed, however it ended (events.once would reject on its 'error'). */
const closeOf = (socket: Socket | undefined) => new Promise((resolve) => socket?.once('close', resolve))

const STREAM_REQUEST = 'GET /ws/live HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n\r\n'

t.test('Accept: text/event-stream gets the state as SSE events: the current one, then each change', async (t) => {
  const { app, address } = await listen(t)
  const stream = await openEventStream(`${address}/ws/live`)
  t.teardown(stream.close)
  t.equal(stream.response.statusCode, 200)
  t.match(stream.response.headers['content-type'], /^text\/event-stream/)
  t.equal(stream.response.headers['cache-control'], 'no-store')
  t.equal(stream.response.headers['access-control-allow-origin'], '*', 'other sites may embed the widget')
  t.equal(await stream.next(), 'retry: 5000')
  t.equal(await stream.next(), `id: 0\ndata: ${OFFLINE}`, 'each event has the state\'s seq as its id')

  const live = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH })
  t.equal(await stream.next(), `id: 1\ndata: ${live.body}`)
  const offline = await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH })
  t.equal(await stream.next(), `id: 2\ndata: ${offline.body}`)
  t.equal(app.sseStreams.size, 1)
})

t.test('a client reconnecting with Last-Event-ID gets the current state at once', async (t) => {
  const { app, address } = await listen(t)
  await app.liveState.heartbeat({ sessionId: 'a' })
  await app.liveState.heartbeat({ sessionId: 'a', status: 'working' })
  for (const lastEventId of ['1', '2', '99', 'junk']) {
    const stream = await openEventStream(`${address}/ws/live`, { 'last-event-id': lastEventId })
    t.equal(await stream.next(), 'retry: 5000')
    t.equal(await stream.next(), `id: 2\ndata: ${app.liveState.snapshot.json}`, `after ${lastEventId}`)
    stream.close()
  }
})

t.test('without that Accept header the same URL still answers with the JSON snapshot', async (t) => {
  const { app } = await listen(t)
  const res = await app.inject({ url: '/ws/live', headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, OFFLINE)
})

t.test('a keepalive comment goes out every ping period', async (t) => {
  const { address } = await listen(t, { CC_LIVE_PING_SECONDS: '0.05' })
  const stream = await openEventStream(`${address}/ws/live`)
  t.teardown(stream.close)
  await stream.next()
  await stream.next()
  t.equal(await stream.next(), ': keepalive')
  t.equal(await stream.next(), ': keepalive')
})

t.test('closing the app ends open streams instead of waiting on them', async (t) => {
  const { app, address } = await listen(t)
  const stream = await openEventStream(`${address}/ws/live`)
  await stream.next()
  await stream.next()
  await app.close()
  t.equal(await stream.next(), null, 'the stream ended')
})

t.test('closing the app ends a stream whose client never ends its side', async (t) => {
  const { app, address } = await listen(t)
  const connection = await openRawConnection(Number(new URL(address).port), { allowHalfOpen: true })
  t.teardown(() => connection.socket.destroy())
  connection.socket.write(STREAM_REQUEST)
  await connection.until(`data: ${OFFLINE}\n\n`)
  await app.close()
  t.match(await connection.ended, /data: .*\n\n$/, 'the client saw the stream end, and the app closed')
  t.equal(app.viewerAdmission.viewers, 0)
})

t.test('one serialization per change, shared by WebSocket and SSE viewers', async (t) => {
  const { app, address } = await listen(t)
  const streams = [await openEventStream(`${address}/ws/live`), await openEventStream(`${address}/ws/live`)]
  for (const stream of streams) {
    t.teardown(stream.close)
    await stream.next()
    await stream.next()
  }
  const socket = new WebSocket(`${address.replace('http', 'ws')}/ws/live`)
  t.teardown(() => socket.terminate())
  const messages: string[] = []
  const secondMessage = new Promise<void>((resolve) => socket.on('message', (data) => {
    messages.push(data.toString())
    if (messages.length === 2) resolve()
  }))
  await new Promise((resolve) => socket.once('open', resolve))

  const stringify = t.capture(JSON, 'stringify', JSON.stringify)
  app.liveState.heartbeat({ sessionId: 'a' })
  const calls = stringify().length
  stringify.restore()
  t.equal(calls, 1, 'serialized once for every viewer')
  await secondMessage
  const json = app.liveState.snapshot.json
  t.equal(messages[1], json)
  for (const stream of streams) t.equal(await stream.next(), `id: 1\ndata: ${json}`)
})

t.test('a HEAD for the event stream answers the stream\'s headers and takes no place (it used to leak one)', async (t) => {
  const { app, address } = await listen(t, { CC_LIVE_MAX_VIEWERS_PER_IP: '2' })
  const port = Number(new URL(address).port)
  for (let i = 0; i < 10; i++) {
    const head = await httpCall({ port, path: '/ws/live', method: 'HEAD', headers: { accept: 'text/event-stream' } })
    t.equal(head.status, 200)
    t.match(head.headers['content-type'], /^text\/event-stream/)
    t.equal(head.body, '')
  }
  const plain = await httpCall({ port, path: '/ws/live', method: 'HEAD' })
  t.match(plain.headers['content-type'], /^application\/json/, 'a plain HEAD has the snapshot\'s headers')
  t.equal(app.sseStreams.size, 0, 'no stream was made')
  t.equal(app.viewerAdmission.viewers, 0, 'no place was taken')

  const stream = await openEventStream(`${address}/ws/live`)
  t.teardown(stream.close)
  const viewer = await connectViewer(app)
  t.teardown(() => viewer.close())
  t.equal(stream.response.statusCode, 200, 'the address still gets an event stream')
  t.same(await viewer.next(), OFFLINE_STATE, 'and a WebSocket, up to its cap of two')
})

t.test('an event stream its client drops gives its place back', async (t) => {
  const { app, address } = await listen(t, { CC_LIVE_MAX_VIEWERS_PER_IP: '1' })
  const sockets = serverSockets(app)
  const stream = await openEventStream(`${address}/ws/live`)
  await stream.next()
  t.equal(app.viewerAdmission.viewers, 1)
  // Listening after the stream joined, so the set has seen the close when this resolves.
  const closed = closeOf(sockets[0])
  stream.close()
  await closed
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
  const again = await openEventStream(`${address}/ws/live`)
  t.teardown(again.close)
  t.equal(again.response.statusCode, 200, 'the address may open another')
})

t.test('a viewer that passed the check but finds the last place taken: the WebSocket is closed 1013, the stream refused 503', async (t) => {
  const { app, address } = await listen(t, { CC_LIVE_MAX_VIEWERS: '1' })
  const first = await connectViewer(app)
  t.teardown(() => first.close())
  await first.next()
  // The race: the check before the upgrade saw room, and the place went before the viewer joined.
  app.viewerAdmission.refusal = () => null
  const late = new WebSocket(`${address.replace('http', 'ws')}/ws/live`)
  const messages: unknown[] = []
  late.on('message', (data) => messages.push(data))
  t.equal(await closeCode(late), 1013)
  t.same(messages, [], 'it was never sent the state')
  const refused = await fetch(`${address}/ws/live`, { headers: { accept: 'text/event-stream' } })
  t.equal(refused.status, 503)
  t.match(await refused.json(), { code: 'CC_LIVE_TOO_MANY_VIEWERS' })
  t.equal(app.viewerAdmission.viewers, 1, 'neither took a place')
})

t.test('an open event stream keeps nothing of its request, reply or request logger reachable', async (t) => {
  const { app, address, requests } = await appTrackingRequests(t, () => true)
  const stream = await openEventStream(`${address}/ws/live`)
  t.teardown(stream.close)
  await stream.next()
  await stream.next()
  await nextTurn()
  collectGarbage()
  t.equal(requests.length, 1)
  t.same(requests.map(reachable), [[]], 'request, raw request, reply and child logger collected while the stream is open')
  app.liveState.heartbeat({ sessionId: 'a' })
  t.match(await stream.next(), /^id: 1\ndata: \{"seq":1,"active":true/, 'and the stream still gets changes')
})

t.test('the stream runs until the connection closes (no length, no chunked coding); a client ending its side ends it and gives the place back', async (t) => {
  const { app, address } = await listen(t)
  const sockets = serverSockets(app)
  const connection = await openRawConnection(Number(new URL(address).port))
  t.teardown(() => connection.socket.destroy())
  connection.socket.write(STREAM_REQUEST)
  const received = await connection.until(`data: ${OFFLINE}\n\n`)
  const [head = '', body] = received.split('\r\n\r\n')
  t.match(head, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(head, /\r\nconnection: close(\r\n|$)/)
  t.match(head, /\r\ndate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT(\r\n|$)/)
  t.notMatch(head, /transfer-encoding|content-length/i)
  t.equal(body, `retry: 5000\n\nid: 0\ndata: ${OFFLINE}\n\n`, 'events as they are, unframed')
  t.equal(app.viewerAdmission.viewers, 1)

  const closed = closeOf(sockets[0])
  connection.socket.end()
  await connection.ended
  await closed
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
})

t.test('an event stream whose client resets the connection gives its place back', async (t) => {
  const { app, address } = await listen(t)
  const sockets = serverSockets(app)
  const connection = await openRawConnection(Number(new URL(address).port))
  connection.socket.write(STREAM_REQUEST)
  await connection.until(`data: ${OFFLINE}\n\n`)
  const closed = closeOf(sockets[0])
  connection.socket.resetAndDestroy()
  await closed
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal(app.sseStreams.size, 0, 'and a change after it goes to no one')
})

t.test('a GET whose body is still arriving gets its stream from node:http, framed by it, and gives the place back', async (t) => {
  const { app, address } = await listen(t)
  const sockets = serverSockets(app)
  const connection = await openRawConnection(Number(new URL(address).port))
  t.teardown(() => connection.socket.destroy())
  connection.socket.write('GET /ws/live HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\ncontent-length: 4\r\n\r\n')
  await connection.until(`data: ${OFFLINE}\n\n`)
  t.match(connection.received, /\r\ntransfer-encoding: chunked\r\n/i)
  app.liveState.heartbeat({ sessionId: 'a' })
  await connection.until(`data: ${app.liveState.snapshot.json}\n\n`)
  t.equal(app.viewerAdmission.viewers, 1)
  const closed = closeOf(sockets[0])
  connection.socket.destroy()
  await closed
  t.equal(app.viewerAdmission.viewers, 0)
  t.equal(app.sseStreams.size, 0)
})
