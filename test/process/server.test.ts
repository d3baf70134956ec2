import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { HTTP_TIMEOUTS } from '../../src/app.ts'
import { AUTH, TEST_KEY } from '../helpers/app.ts'
import { SERVER_ENTRY, startServer } from '../helpers/server-process.ts'

t.test('start-up refuses a missing or short key, or one no client could send, naming the variable', async (t) => {
  const unsendable = `${TEST_KEY}\r`
  for (const env of [{}, { CC_LIVE_API_KEY: 'short' }, { CC_LIVE_API_KEY: unsendable }]) {
    // A bound, not a target: a server that accepted the key would listen until killed.
    const result = spawnSync(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH, PORT: '0', ...env }, encoding: 'utf8', timeout: 10_000 })
    t.equal(result.signal, null, 'exited by itself')
    t.not(result.status, 0, 'non-zero exit')
    t.match(result.stdout + result.stderr, /CC_LIVE_API_KEY/)
    t.notMatch(result.stdout + result.stderr, TEST_KEY, 'the key is not repeated')
  }
})

/** Request log lines for the heartbeat route so far: the server has read that many requests' headers. */
function heartbeatsReceived (output: string): number {
  return output.split('\n').filter((line) => line.includes('incoming request') && line.includes('/api/live/heartbeat')).length
}

t.test('SIGTERM: viewers get 1001, a request in flight is answered, a body dribbled a byte at a time is cut after the grace, exit 0', async (t) => {
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY })
  const viewer = new WebSocket(`ws://127.0.0.1:${server.port}/ws/live`)
  await once(viewer, 'message')
  const viewerClosed = once(viewer, 'close')

  // A heartbeat whose body will never be done: one byte every 20 ms of a promised 1000.
  const dribbler = connect(server.port, '127.0.0.1')
  await once(dribbler, 'connect')
  // The cut may reach it as a reset; once() would reject on that 'error', so wait for 'close' alone.
  dribbler.on('error', () => {})
  const dribblerClosed = new Promise((resolve) => dribbler.once('close', resolve))
  dribbler.write(`POST /api/live/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`)
  const dribbling = setInterval(() => { if (dribbler.writable) dribbler.write(' ') }, 20)
  t.teardown(() => clearInterval(dribbling))

  // A heartbeat whose body is still on its way when the signal arrives, and then arrives.
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
  await server.outputUntil((output) => heartbeatsReceived(output) === 2)

  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  const [code] = await viewerClosed as [number]
  t.equal(code, 1001, 'viewers are told the server is going away')
  inFlight.end(body.slice(5))
  const [res] = await response as [IncomingMessage]
  t.equal(res.statusCode, 200, 'the request in flight is answered')

  await dribblerClosed
  t.pass('the dribbler is cut')
  const { code: exitCode } = await server.exited
  t.equal(exitCode, 0, 'a slow client is no failure of the server')
  const tookMs = Date.now() - signalledAt
  // A bound for correctness (the cut comes at the grace), not a timing target.
  t.ok(tookMs < HTTP_TIMEOUTS.shutdownGraceMs + 1000, `exited ${tookMs} ms after the signal, grace ${HTTP_TIMEOUTS.shutdownGraceMs} ms`)
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
