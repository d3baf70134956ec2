import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import WebSocket, { type ClientOptions } from 'ws'
import { buildListeningTestApp, buildTestApp } from '../helpers/app.ts'
import { openEventStream } from '../helpers/event-stream.ts'
import { connectViewer, wsUrl, type ViewerClient } from '../helpers/viewer.ts'
import { errorBody } from '../../src/errors.ts'

type Test = Parameters<typeof buildTestApp>[0]

/** Tries to subscribe and expects to be refused before the upgrade: the HTTP answer. */
async function refusal (app: FastifyInstance, options?: ClientOptions): Promise<{ status: number | undefined, body: unknown }> {
  const socket = new WebSocket(wsUrl(app), options)
  const [, response] = await once(socket, 'unexpected-response') as [unknown, IncomingMessage]
  let body = ''
  for await (const chunk of response) body += String(chunk)
  return { status: response.statusCode, body: JSON.parse(body) }
}

/** The server's side of each viewer, in order of arrival, to await its removal. */
function serverSockets (app: FastifyInstance): WebSocket[] {
  const sockets: WebSocket[] = []
  app.websocketServer.on('connection', (socket: WebSocket) => sockets.push(socket))
  return sockets
}

async function stillServed (t: Test, app: FastifyInstance, viewers: ViewerClient[]) {
  app.liveState.heartbeat({ sessionId: 'check' })
  for (const viewer of viewers) t.equal((await viewer.nth(2)).active, true, 'an existing viewer still gets changes')
}

t.test('over the per-address cap an upgrade gets 503; other addresses still get in', async (t) => {
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_MAX_VIEWERS: '10', CC_LIVE_MAX_VIEWERS_PER_IP: '2' } })
  const viewers = [await connectViewer(app), await connectViewer(app)]
  const refused = await refusal(app)
  t.same(refused, {
    status: 503,
    body: errorBody('CC_LIVE_TOO_MANY_VIEWERS')
  })
  const elsewhere = await connectViewer(app, { localAddress: '127.0.0.2' })
  t.equal(app.viewers.size, 3)
  await stillServed(t, app, [...viewers, elsewhere])
  for (const viewer of [...viewers, elsewhere]) viewer.socket.close()
})

t.test('over the global cap every address gets 503; a place frees up when a viewer leaves', async (t) => {
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_MAX_VIEWERS: '2', CC_LIVE_MAX_VIEWERS_PER_IP: '10' } })
  const server = serverSockets(app)
  const viewers = [await connectViewer(app), await connectViewer(app, { localAddress: '127.0.0.2' })]
  t.equal((await refusal(app, { localAddress: '127.0.0.3' })).status, 503)
  t.equal((await refusal(app)).status, 503)
  await stillServed(t, app, viewers)

  const leaving = once(server[0] as WebSocket, 'close')
  viewers[0]?.socket.close()
  await leaving
  const newcomer = await connectViewer(app, { localAddress: '127.0.0.3' })
  t.same(await newcomer.upTo(1), [app.liveState.snapshot.state])
  for (const viewer of [viewers[1], newcomer]) viewer?.socket.close()
})

t.test('with an origin allow-list, other pages are refused with 403; non-browser clients are let in', async (t) => {
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_ALLOWED_ORIGINS: 'https://blog.example, http://localhost:4000' } })
  const allowed = await connectViewer(app, { origin: 'https://blog.example' })
  const local = await connectViewer(app, { origin: 'http://localhost:4000' })
  const noOrigin = await connectViewer(app)
  for (const origin of ['https://evil.example', 'http://blog.example', 'https://blog.example:8443', 'null']) {
    t.same(await refusal(app, { origin }), {
      status: 403,
      body: errorBody('CC_LIVE_ORIGIN_NOT_ALLOWED')
    }, origin)
  }
  t.equal(app.viewers.size, 3)
  await stillServed(t, app, [allowed, local, noOrigin])
  for (const viewer of [allowed, local, noOrigin]) viewer.socket.close()
})

t.test('the allow-list guards subscriptions only: the public snapshot answers any page', async (t) => {
  const app = await buildTestApp(t, { env: { CC_LIVE_ALLOWED_ORIGINS: 'https://blog.example' } })
  const res = await app.inject({ url: '/ws/live', headers: { origin: 'https://evil.example' } })
  t.equal(res.statusCode, 200)
})

t.test('without an allow-list any origin may subscribe', async (t) => {
  const app = await buildListeningTestApp(t)
  const viewer = await connectViewer(app, { origin: 'https://anyone.example' })
  t.equal((await viewer.nth(1)).active, false)
  viewer.socket.close()
})

t.test('event streams are viewers too: they share the caps and the origin allow-list', async (t) => {
  const app = await buildListeningTestApp(t, {
    env: { CC_LIVE_MAX_VIEWERS: '10', CC_LIVE_MAX_VIEWERS_PER_IP: '2', CC_LIVE_ALLOWED_ORIGINS: 'https://blog.example' }
  })
  const streamUrl = wsUrl(app).replace('ws:', 'http:')
  const viewer = await connectViewer(app)
  const stream = await openEventStream(streamUrl)
  t.equal(stream.response.statusCode, 200)
  t.equal(app.viewerAdmission.refusal('127.0.0.1', undefined), 'CC_LIVE_TOO_MANY_VIEWERS', 'one WebSocket and one stream fill a cap of two')

  const refusedStream = await fetch(streamUrl, { headers: { accept: 'text/event-stream' } })
  t.equal(refusedStream.status, 503)
  t.match(await refusedStream.json(), { code: 'CC_LIVE_TOO_MANY_VIEWERS' })
  t.equal((await refusal(app)).status, 503, 'and so is a third WebSocket')
  t.equal((await fetch(streamUrl)).status, 200, 'the JSON snapshot is never refused')

  const foreign = await fetch(streamUrl, { headers: { accept: 'text/event-stream', origin: 'https://evil.example' } })
  t.equal(foreign.status, 403)
  t.match(await foreign.json(), { code: 'CC_LIVE_ORIGIN_NOT_ALLOWED' })

  await stillServed(t, app, [viewer])
  stream.close()
  viewer.socket.close()
})
