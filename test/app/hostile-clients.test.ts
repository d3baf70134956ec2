import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp, HTTP_TIMEOUTS, type HttpTimeouts } from '../../src/app.ts'
import { AUTH, buildListeningTestApp, TEST_ENV } from '../helpers/app.ts'
import { closeCode, connectViewer } from '../helpers/viewer.ts'

const SHORT: HttpTimeouts = { headersMs: 300, requestMs: 600, keepAliveMs: 400, checkIntervalMs: 50, shutdownGraceMs: 200 }

function portOf (app: FastifyInstance): number {
  return (app.server.address() as { port: number }).port
}

interface Cut {
  /** ms from connecting until the server closed the connection */
  afterMs: number
  /** what the server wrote before closing */
  answer: string
}

/** Opens a raw TCP connection, lets `behave` write to it, and resolves when the server closes it. */
async function rawClient (app: FastifyInstance, behave: (socket: Socket) => void): Promise<Cut> {
  const socket = connect(portOf(app), '127.0.0.1')
  await once(socket, 'connect')
  const connectedAt = Date.now()
  let answer = ''
  socket.on('data', (chunk) => { answer += String(chunk) })
  // A server that answers and closes while the client still writes may reset the connection; once()
  // would reject on that 'error', and the close is what is awaited.
  socket.on('error', () => {})
  const closed = new Promise((resolve) => socket.once('close', resolve))
  behave(socket)
  await closed
  return { afterMs: Date.now() - connectedAt, answer }
}

/** Writes one chunk every `everyMs` until the connection is closed. */
function dribble (socket: Socket, chunks: () => string, everyMs = 20): void {
  const timer = setInterval(() => { if (socket.writable) socket.write(chunks()) }, everyMs)
  socket.once('close', () => clearInterval(timer))
}

t.test('production timeouts are set on the server', async (t) => {
  const app = buildApp({ env: TEST_ENV })
  t.teardown(() => app.close())
  await app.ready()
  t.equal(app.server.headersTimeout, HTTP_TIMEOUTS.headersMs)
  t.equal(app.server.requestTimeout, HTTP_TIMEOUTS.requestMs)
  t.equal(app.server.keepAliveTimeout, HTTP_TIMEOUTS.keepAliveMs)
  t.ok(HTTP_TIMEOUTS.headersMs <= HTTP_TIMEOUTS.requestMs, 'headers must fit in the request time')
})

t.test('slowloris: headers dribbled a line at a time are cut at the headers timeout; others are served meanwhile', async (t) => {
  const app = await buildListeningTestApp(t, { httpTimeouts: SHORT })
  const viewer = await connectViewer(app)
  const viewerSince = Date.now()
  let line = 0
  const cutting = rawClient(app, (socket) => {
    socket.write('GET /ws/live HTTP/1.1\r\nHost: x\r\n')
    dribble(socket, () => `X-Dribble-${line++}: y\r\n`)
  })
  const health = await fetch(`http://127.0.0.1:${portOf(app)}/healthz`)
  t.equal(health.status, 200, 'a normal request is answered while the dribbler holds its connection')
  const cut = await cutting
  t.match(cut.answer, /^HTTP\/1\.1 408 /)
  t.ok(cut.afterMs >= SHORT.headersMs && cut.afterMs < SHORT.headersMs + 1000, `cut after ${cut.afterMs} ms, ${line} header lines`)

  const silent = await rawClient(app, () => {})
  t.ok(silent.afterMs >= SHORT.headersMs && silent.afterMs < SHORT.headersMs + 1000, `a silent connection is cut after ${silent.afterMs} ms`)

  const slowBody = await rawClient(app, (socket) => {
    socket.write(`POST /api/live/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`)
    dribble(socket, () => ' ')
  })
  t.match(slowBody.answer, /^HTTP\/1\.1 408 /)
  t.ok(slowBody.afterMs >= SHORT.requestMs && slowBody.afterMs < SHORT.requestMs + 1000, `a slow body is cut after ${slowBody.afterMs} ms`)
  t.same(app.liveState.snapshot.state.sessions, 0, 'and changed nothing')

  t.ok(Date.now() - viewerSince > SHORT.requestMs, 'the viewer has been connected longer than any request may take')
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal((await viewer.nth(2)).active, true, 'yet it is still connected and served: timeouts end at the upgrade')
  viewer.socket.close()
})

t.test('an idle keep-alive connection is closed at the keep-alive timeout', async (t) => {
  const app = await buildListeningTestApp(t, { httpTimeouts: SHORT })
  const idle = await rawClient(app, (socket) => { socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n') })
  t.match(idle.answer, /^HTTP\/1\.1 200 /)
  // Node gives an idle socket about a second more than keepAliveTimeout before closing it.
  t.ok(idle.afterMs >= SHORT.keepAliveMs && idle.afterMs < SHORT.keepAliveMs + 2000, `closed after ${idle.afterMs} ms`)
})

t.test('headers over 16 KiB are refused with 431', async (t) => {
  const app = await buildListeningTestApp(t, { httpTimeouts: SHORT })
  const cut = await rawClient(app, (socket) => {
    socket.write(`GET /ws/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`)
  })
  t.match(cut.answer, /^HTTP\/1\.1 431 /)
})

t.test('a viewer flooding small messages is cut; another viewer is served meanwhile', async (t) => {
  const app = await buildListeningTestApp(t)
  const healthy = await connectViewer(app)
  const flooder = await connectViewer(app)
  const flooderClosed = closeCode(flooder.socket)
  for (let i = 0; i < 10_000 && flooder.socket.readyState === flooder.socket.OPEN; i++) flooder.socket.send('x')
  t.equal(await flooderClosed, 1006, 'terminated')
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal((await healthy.nth(2)).active, true)
  t.equal(app.viewers.size, 1)
  healthy.socket.close()
})

t.test('a viewer flooding pings is cut too', async (t) => {
  const app = await buildListeningTestApp(t)
  const flooder = await connectViewer(app)
  const closed = closeCode(flooder.socket)
  for (let i = 0; i < 10_000 && flooder.socket.readyState === flooder.socket.OPEN; i++) flooder.socket.ping()
  t.equal(await closed, 1006)
  t.equal(app.viewers.size, 0)
})

t.test('one address opening 150 idle connections holds the default 100; the rest are closed unanswered; others are served', async (t) => {
  const app = await buildListeningTestApp(t)
  const opened: Array<{ socket: Socket, closed: boolean, answered: boolean, whenClosed: Promise<void> }> = []
  for (let i = 0; i < 150; i++) {
    const socket = connect({ port: portOf(app), host: '127.0.0.1', localAddress: '127.0.0.5' })
    socket.on('error', () => {})
    const entry = { socket, closed: false, answered: false, whenClosed: Promise.resolve() }
    entry.whenClosed = new Promise((resolve) => socket.once('close', () => { entry.closed = true; resolve() }))
    socket.on('data', () => { entry.answered = true })
    await once(socket, 'connect')
    opened.push(entry)
  }
  t.teardown(() => { for (const { socket } of opened) socket.destroy() })
  await Promise.all(opened.slice(100).map((entry) => entry.whenClosed))
  t.notOk(opened.slice(100).some((entry) => entry.answered), 'the 50 over the cap were closed without a byte')
  t.notOk(opened.slice(0, 100).some((entry) => entry.closed), 'the first 100 are still open')
  const health = await fetch(`http://127.0.0.1:${portOf(app)}/healthz`)
  t.equal(health.status, 200, 'another address is served')
})
