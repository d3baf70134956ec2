import { once } from 'node:events'
import { connect } from 'node:net'
import fc from 'fast-check'
import t from 'tap'
import { HTTP_TIMEOUTS } from '../../src/app.ts'
import { AUTH, buildListeningTestApp, TEST_KEY } from '../helpers/app.ts'

const RUNS = 300

const bytes = (min: number, max: number, maxLength: number) =>
  fc.string({ unit: fc.integer({ min, max }).map((code) => String.fromCharCode(code)), maxLength })

// Mostly well-formed, so many requests get past the parser to the router and the key check.
const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS'), weight: 6 },
  { arbitrary: fc.constantFrom('CONNECT', 'PRI', 'get', 'P OST'), weight: 1 },
  { arbitrary: bytes(0x21, 0x7e, 10), weight: 1 }
)
// Raw request targets: what a URL parser would refuse or rewrite reaches the server as it is here.
const target = fc.oneof(
  { arbitrary: fc.constantFrom('/api/live/heartbeat', '/api/live/stop'), weight: 4 },
  fc.constantFrom('/api/live/heartbeat', '/api/live/stop', '/ws/live', '/healthz', '/\\', '//', '*', 'http://evil.example/api/live/stop', '/api/live/heartbeat/..', '/%', '/%2', ''),
  bytes(0x21, 0x7e, 60).map((text) => `/${text}`),
  bytes(0x00, 0xff, 30)
)
const headerLine = fc.oneof(
  { arbitrary: fc.constantFrom(`Authorization: ${AUTH.authorization}`, 'Content-Type: application/json'), weight: 4 },
  { arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), bytes(0x20, 0x7e, 60)).map(([name, value]) => `${name}: ${value}`), weight: 2 },
  fc.constantFrom('Authorization: Bearer wrong-key-0123456789', 'Content-Type: text/plain', 'Upgrade: websocket', 'Connection: upgrade', 'Expect: 100-continue', 'Host:', ' folded: line', 'no-colon-here', ': no-name'),
  bytes(0x00, 0xff, 40)
)
const body = fc.oneof(fc.constant(''), fc.json(), fc.constant('{"session_id":"raw"}'), bytes(0x00, 0xff, 100))

const version = fc.oneof(
  { arbitrary: fc.constant('HTTP/1.1'), weight: 8 },
  fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'http/1.1')
)

const rawRequest = fc.record({ method, target, headers: fc.array(headerLine, { maxLength: 6 }), body, version })

t.test(`${RUNS} raw requests on a real socket, malformed at every level: a 2xx or 4xx answer every time, the server unharmed`, async (t) => {
  const app = await buildListeningTestApp(t, { httpTimeouts: { ...HTTP_TIMEOUTS, headersMs: 2000, requestMs: 2000, keepAliveMs: 5000, checkIntervalMs: 100 } })
  const { port } = app.server.address() as { port: number }
  const statuses = new Map<string, number>()

  await fc.assert(fc.asyncProperty(rawRequest, async ({ method, target, headers, body, version }) => {
    const before = app.liveState.snapshot
    const socket = connect(port, '127.0.0.1')
    let answer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => { answer = Buffer.concat([answer, chunk]) })
    socket.on('error', () => {})
    const closed = once(socket, 'close')
    const payload = Buffer.from(body, 'latin1')
    socket.end(Buffer.concat([
      Buffer.from(`${method} ${target} ${version}\r\nHost: x\r\n${headers.map((line) => `${line}\r\n`).join('')}Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`, 'latin1'),
      payload
    ]))
    await closed
    // A "100 Continue" for Expect: 100-continue may come before the answer.
    const text = answer.toString('latin1').replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '')
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text)?.[1] ?? (text === '' ? 'closed' : 'garbage')
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    // CONNECT asks for a tunnel; a server that is not a proxy drops the connection.
    if (status === 'closed' && method === 'CONNECT') return
    if (!/^\d{3}$/.test(status)) throw new Error(`no answer: ${JSON.stringify(text.slice(0, 200))}`)
    if (!/^[24]/.test(status)) throw new Error(`answered ${status}`)
    if (text.includes(TEST_KEY)) throw new Error('the key was echoed')
    if (app.liveState.snapshot !== before && !headers.includes(`Authorization: ${AUTH.authorization}`)) throw new Error('state changed without the key')
  }), { numRuns: RUNS })

  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`)
  t.ok(statuses.has('400') && statuses.has('404'), 'the parser and the router both had their say')
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'still serving')
})
