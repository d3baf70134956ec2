import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import t from 'tap'
import WebSocket from 'ws'
import { AUTH, TEST_KEY } from '../helpers/app.js'
import { SERVER_ENTRY, startServer } from '../helpers/server-process.js'

t.test('start-up refuses a missing or short key, naming the variable', async (t) => {
  for (const env of [{}, { CC_LIVE_API_KEY: 'short' }]) {
    const result = spawnSync(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH, PORT: '0', ...env }, encoding: 'utf8' })
    t.not(result.status, 0, 'non-zero exit')
    t.match(result.stdout + result.stderr, /CC_LIVE_API_KEY/)
  }
})

t.test('SIGTERM closes viewers with 1001, finishes the request in flight and exits 0', async (t) => {
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY })
  const viewer = new WebSocket(`ws://127.0.0.1:${server.port}/ws/live`)
  await once(viewer, 'message')
  const viewerClosed = once(viewer, 'close')

  // A heartbeat whose body is still on its way when the signal arrives.
  const body = JSON.stringify({ session_id: 'in-flight' })
  const inFlight = request({
    port: server.port,
    method: 'POST',
    path: '/api/live/heartbeat',
    headers: { ...AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
  })
  const response = once(inFlight, 'response')
  inFlight.write(body.slice(0, 5))
  inFlight.flushHeaders()
  await new Promise<void>((resolve) => server.child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.includes('incoming request') && chunk.includes('/api/live/heartbeat')) resolve()
  }))

  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  const [code] = await viewerClosed as [number]
  t.equal(code, 1001, 'viewers are told the server is going away')
  inFlight.end(body.slice(5))
  const [res] = await response as [import('node:http').IncomingMessage]
  t.equal(res.statusCode, 200, 'the request in flight is answered')

  const { code: exitCode } = await server.exited
  t.equal(exitCode, 0)
  t.ok(Date.now() - signalledAt < 5000, 'within 5 s')
})

t.test('SIGINT shuts down the same way', async (t) => {
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY })
  const viewer = new WebSocket(`ws://127.0.0.1:${server.port}/ws/live`)
  await once(viewer, 'message')
  const viewerClosed = once(viewer, 'close')
  server.child.kill('SIGINT')
  t.same(await viewerClosed, [1001, Buffer.from('server shutting down')])
  t.same(await server.exited, { code: 0, signal: null })
})

t.test('the key and the Authorization header never reach the logs', async (t) => {
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY, LOG_LEVEL: 'trace' })
  const wrongKey = 'not-the-key-but-also-secret-123'
  const post = (authorization: string) => fetch(`http://127.0.0.1:${server.port}/api/live/heartbeat`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: '{"session_id":"log-check"}'
  })
  t.equal((await post(`Bearer ${TEST_KEY}`)).status, 200)
  t.equal((await post(`Bearer ${wrongKey}`)).status, 401)
  server.child.kill('SIGTERM')
  await server.exited
  const logs = server.output()
  t.match(logs, /live state changed/, 'the change was logged')
  t.match(logs, /unauthorized/, 'the refusal was logged')
  t.notMatch(logs, TEST_KEY)
  t.notMatch(logs, wrongKey)
  t.notMatch(logs, /bearer /i)
})
