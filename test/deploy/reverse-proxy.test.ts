import { once } from 'node:events'
import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { AUTH, TEST_ENV } from '../helpers/app.ts'
import { openEventStream } from '../helpers/event-stream.ts'
import { httpCall } from '../helpers/http-call.ts'
import { openViewer } from '../helpers/viewer.ts'
import { loadCompose, traefikRouters } from '../helpers/compose.ts'
import { captureLogs, loggedClientAddresses, type LogLine } from '../helpers/logs.ts'
import { findNginx, startProxy } from '../helpers/nginx.ts'
import { IS_OFFLINE, OFFLINE } from '../helpers/states.ts'

// cc-live behind a real nginx routed like production's Traefik: compose.yaml's cc-live prefixes go
// to cc-live, every other path is the blog's.
const nginx = findNginx()
const skip = nginx === undefined ? 'nginx is not installed (apt-get install nginx; .ci/run installs it)' : false

const CLIENT = '127.0.0.2'
const PROXY = '127.0.0.3'
const FORGED = '203.0.113.7'
const prefixes = traefikRouters(loadCompose('compose.yaml')).filter((router) => router.container === 'cc-live').map((router) => router.prefix)

interface Stack {
  app: FastifyInstance
  appPort: number
  proxyPort: number
  logs: LogLine[]
}

async function startStack (t: Test, env: Record<string, string> = {}): Promise<Stack> {
  const { lines, logger } = captureLogs()
  const app = buildApp({ logger, env: { ...TEST_ENV, LOG_LEVEL: 'info', ...env } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const appPort = (app.server.address() as { port: number }).port
  const proxyPort = await startProxy(t, { nginx: nginx ?? '', upstreamPort: appPort, prefixes, blogRoot: 'deploy/blog', proxyAddress: PROXY })
  return { app, appPort, proxyPort, logs: lines }
}

const requestedUrls = (logs: LogLine[]): Array<string | undefined> =>
  logs.filter((line) => line.msg === 'incoming request').map((line) => line.req?.url)

t.test('the blog is served by the proxy, and paths outside the two prefixes never reach cc-live', { skip }, async (t) => {
  const { appPort, proxyPort, logs } = await startStack(t)
  const page = await httpCall({ port: proxyPort, path: '/' })
  t.equal(page.status, 200)
  t.match(page.body, '<cc-live-status></cc-live-status>')

  for (const path of ['/healthz', '/other', '/api/other', '/ws']) {
    t.equal((await httpCall({ port: proxyPort, path })).status, 404, `${path} through the proxy`)
  }
  t.same(requestedUrls(logs), [], 'cc-live saw none of them')
  t.equal((await httpCall({ port: appPort, path: '/healthz' })).status, 200, 'though it does serve /healthz to the healthcheck')
})

t.test('snapshot GET and heartbeats through the proxy', { skip }, async (t) => {
  const { proxyPort } = await startStack(t)
  const snapshot = await httpCall({ port: proxyPort, path: '/ws/live' })
  t.equal(snapshot.status, 200)
  t.equal(snapshot.headers['cache-control'], 'no-store')
  t.same(JSON.parse(snapshot.body), OFFLINE)

  const heartbeat = { port: proxyPort, path: '/api/live/heartbeat', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"session_id":"proxied"}' }
  const refused = await httpCall(heartbeat)
  t.equal(refused.status, 401, 'the key is still required')
  t.equal(refused.headers['www-authenticate'], 'Bearer realm="cc-live"')
  const accepted = await httpCall({ ...heartbeat, headers: { ...heartbeat.headers, ...AUTH } })
  t.equal(accepted.status, 200)
  t.match(JSON.parse(accepted.body), { active: true, sessions: 1 })
  t.match(JSON.parse((await httpCall({ port: proxyPort, path: '/ws/live' })).body), { active: true, sessions: 1 })
})

t.test('WebSocket upgrade and broadcast through the proxy', { skip }, async (t) => {
  const { proxyPort } = await startStack(t)
  const viewers = [await openViewer(`ws://127.0.0.1:${proxyPort}/ws/live`), await openViewer(`ws://127.0.0.1:${proxyPort}/ws/live`)]
  t.teardown(() => viewers.forEach((viewer) => viewer.close()))
  for (const viewer of viewers) t.same(await viewer.next(), OFFLINE, 'first message: the current state')

  const post = (path: string) => httpCall({ port: proxyPort, path, method: 'POST', headers: AUTH })
  t.equal((await post('/api/live/heartbeat')).status, 200)
  for (const viewer of viewers) t.match(await viewer.next(), { active: true, sessions: 1 }, 'every viewer hears the change')
  t.equal((await post('/api/live/stop')).status, 200)
  for (const viewer of viewers) t.match(await viewer.next(), IS_OFFLINE)
})

t.test('an event stream through the proxy: each change at once, and the place given back when the viewer leaves', { skip }, async (t) => {
  const { app, proxyPort } = await startStack(t)
  const upstream: Socket[] = []
  app.server.on('connection', (socket: Socket) => upstream.push(socket))
  // The stream's body runs until its connection closes (no length, no chunks): the proxy must pass
  // each event on as it comes, not wait for the end.
  const stream = await openEventStream(`http://127.0.0.1:${proxyPort}/ws/live`)
  const [streamSocket] = upstream
  t.equal(stream.response.statusCode, 200)
  t.match(stream.response.headers['content-type'], /^text\/event-stream/)
  t.equal(await stream.next(), 'retry: 5000')
  t.equal(await stream.next(), `id: 0\ndata: ${JSON.stringify(OFFLINE)}`, 'first the current state')
  const live = await httpCall({ port: proxyPort, path: '/api/live/heartbeat', method: 'POST', headers: AUTH })
  t.equal(await stream.next(), `id: 1\ndata: ${live.body}`, 'then the change')
  t.equal(app.sseStreams.size, 1)
  const closed = once(streamSocket!, 'close')
  stream.close()
  await closed
  t.equal(app.sseStreams.size, 0, 'the proxy closing its upstream connection ends the stream')
})

t.test('trusting the proxy: logs name the client, whatever it forges, over HTTP and WebSocket', { skip }, async (t) => {
  const { appPort, proxyPort, logs } = await startStack(t, { CC_LIVE_TRUST_PROXY: PROXY })
  const forged = { 'x-forwarded-for': FORGED }
  await httpCall({ port: proxyPort, path: '/ws/live', localAddress: CLIENT, headers: forged })
  const viewer = await openViewer(`ws://127.0.0.1:${proxyPort}/ws/live`, { localAddress: CLIENT, headers: forged })
  t.teardown(() => viewer.close())
  await viewer.next()
  t.same(loggedClientAddresses(logs, '/ws/live'), [CLIENT, CLIENT], 'the client behind the proxy, not the forged address')

  logs.length = 0
  await httpCall({ port: appPort, path: '/ws/live', localAddress: CLIENT, headers: { 'x-forwarded-for': PROXY } })
  t.same(loggedClientAddresses(logs, '/ws/live'), [CLIENT], 'straight to the port, nobody can claim another address')
})

t.test('not trusting it (the default): the proxy is the client, and no header changes that', { skip }, async (t) => {
  const { appPort, proxyPort, logs } = await startStack(t)
  await httpCall({ port: proxyPort, path: '/ws/live', localAddress: CLIENT })
  await httpCall({ port: appPort, path: '/ws/live', localAddress: CLIENT, headers: { 'x-forwarded-for': FORGED } })
  t.same(loggedClientAddresses(logs, '/ws/live'), [PROXY, CLIENT])
})
