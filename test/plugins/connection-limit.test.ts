import { once } from 'node:events'
import { type AddressInfo, connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildListeningTestApp } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { captureLogs } from '../helpers/logs.ts'
import { openViewer, wsUrl } from '../helpers/viewer.ts'

/** Client addresses on loopback: the one that hits the cap, a neighbour, and a proxy the app trusts. */
const GREEDY = '127.0.0.2'
const NEIGHBOUR = '127.0.0.3'
const PROXY = '127.0.0.4'
const ENV = { CC_LIVE_MAX_CONNECTIONS_PER_IP: '3', CC_LIVE_MAX_VIEWERS_PER_IP: '2', CC_LIVE_TRUST_PROXY: PROXY }
const HEALTH = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'

interface RawClient {
  socket: Socket
  /** Everything the server has sent on it. */
  received (): string
  closed: Promise<void>
}

/** A raw TCP connection from `localAddress` that has just written `request`. */
async function rawClient (app: FastifyInstance, localAddress: string, request: string): Promise<RawClient> {
  const socket = connect({ port: (app.server.address() as AddressInfo).port, host: '127.0.0.1', localAddress })
  let received = ''
  socket.on('data', (chunk) => { received += String(chunk) })
  // A refused connection may reach the client as a reset; once() would reject on that 'error'.
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await once(socket, 'connect')
  socket.write(request)
  return { socket, received: () => received, closed }
}

/** A kept-alive connection from `localAddress` that has been answered once, so the server surely holds it. */
async function heldConnection (app: FastifyInstance, localAddress: string): Promise<RawClient> {
  const client = await rawClient(app, localAddress, HEALTH)
  await new Promise<void>((resolve) => {
    const look = () => { if (client.received().includes('{"status":"ok"}')) resolve() }
    client.socket.on('data', look)
    look()
  })
  return client
}

async function setup (t: Parameters<typeof buildListeningTestApp>[0]) {
  const clock = new FakeClock()
  const logs = captureLogs('warn')
  const app = await buildListeningTestApp(t, { clock, logger: logs.logger, env: { ...ENV, ...logs.env } })
  // The server's end of each connection, by the client's port: its 'close' is when the place is given back.
  const serverSide = new Map<number, Socket>()
  app.server.on('connection', (socket: Socket) => { if (socket.remotePort !== undefined) serverSide.set(socket.remotePort, socket) })
  const refusalsLogged = () => logs.lines.filter((line) => line.msg?.startsWith('too many connections')).map((line) => line.address)
  return { app, clock, serverSide, refusalsLogged }
}

t.test('an address at its connection cap (viewers included) has the next one closed before any answer, logged once a minute', async (t) => {
  const { app, clock, serverSide, refusalsLogged } = await setup(t)
  const viewers = [await openViewer(wsUrl(app), { localAddress: GREEDY }), await openViewer(wsUrl(app), { localAddress: GREEDY })]
  t.teardown(() => { for (const viewer of viewers) viewer.close() })
  const held = await heldConnection(app, GREEDY)
  t.teardown(() => held.socket.destroy())

  // A complete request: were it let in, it would be answered (and closed, as it asks).
  const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  const refused = await rawClient(app, GREEDY, request)
  await refused.closed
  t.equal(refused.received(), '', 'closed without a byte of answer')
  const again = await rawClient(app, GREEDY, request)
  await again.closed
  t.equal(again.received(), '')
  t.same(refusalsLogged(), [GREEDY], 'logged once')

  const neighbour = await rawClient(app, NEIGHBOUR, request)
  await neighbour.closed
  t.match(neighbour.received(), /^HTTP\/1\.1 200 /, 'another address is served meanwhile')
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal((await viewers[0]?.nth(2))?.active, true, "the greedy address's own viewers are unaffected")

  clock.advance(60_000)
  await (await rawClient(app, GREEDY, request)).closed
  t.same(refusalsLogged(), [GREEDY, GREEDY], 'a minute later, logged again')

  const placeGivenBack = once(serverSide.get(held.socket.localPort ?? 0) as Socket, 'close')
  held.socket.destroy()
  await placeGivenBack
  const afterOneLeft = await rawClient(app, GREEDY, request)
  await afterOneLeft.closed
  t.match(afterOneLeft.received(), /^HTTP\/1\.1 200 /, 'a connection that closes gives its place back')
})

t.test('connections from a trusted proxy are not capped: there, only X-Forwarded-For tells clients apart', async (t) => {
  const { app, refusalsLogged } = await setup(t)
  const held: RawClient[] = []
  for (let i = 0; i < 6; i++) held.push(await heldConnection(app, PROXY))
  t.teardown(() => { for (const client of held) client.socket.destroy() })
  t.equal(held.length, 6, 'twice the cap, all answered')
  t.same(refusalsLogged(), [])
})
