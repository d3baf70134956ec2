import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { isErrorCode } from '../../src/errors.ts'
import { AUTH, buildTestApp, TEST_KEY } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import type { LiveState } from '../../src/live/state.ts'

const RUNS = 2000

const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength })

// Weighted toward what reaches the API's handlers, so most runs get past routing and the key.
const method = fc.oneof(
  { arbitrary: fc.constant('POST'), weight: 3 },
  { arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'SEARCH', 'PROPFIND', 'QUERY'), weight: 1 }
)

const path = fc.oneof(
  { arbitrary: fc.constantFrom('/api/live/heartbeat', '/api/live/stop'), weight: 6 },
  fc.constantFrom(
    '/ws/live', '/healthz', '/', '/api/live', '/api/live/',
    '/api/live/heartbeat/', '/API/LIVE/HEARTBEAT', '//api/live/stop', '/api/live/./stop', '/api/live/%2e%2e/stop',
    '/api/live/heartbeat?session_id=a', '/api/live/stop#x', '/%zz', '/ws/live/%00', '/ws/live?x=%zz', '/healthz/../api/live/stop'
  ),
  fc.webPath().map((webPath) => webPath.startsWith('/') ? webPath : `/${webPath}`),
  printable(60).map((text) => `/${text.replace(/[\s#]/g, '')}`)
// inject builds a URL from the path and throws on what it cannot parse (such as "/\\");
// such request lines are thrown at the real parser in the socket test below.
).filter((candidate) => URL.canParse(candidate, 'http://localhost'))

const sessionId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), fc.string({ maxLength: 140 }), fc.integer(), fc.constant(null), fc.jsonValue())

const body = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  sessionId.map((id) => JSON.stringify({ session_id: id })),
  fc.record({ session_id: sessionId, extra: fc.jsonValue() }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.integer({ min: 4000, max: 6000 }).map((size) => JSON.stringify({ session_id: 'big', pad: 'x'.repeat(size) })),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"session_id":"a","session_id":"b"}', '[{"session_id":"a"}]', 'null', '{"session_id":"a"')
)

const contentType = fc.option(fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 3 },
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1',
    'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', '', ';;', 'application/json;'),
  printable(40)
), { nil: undefined })

const authorization = fc.option(fc.oneof(
  { arbitrary: fc.constant(AUTH.authorization), weight: 4 },
  fc.constantFrom(AUTH.authorization, `bearer ${TEST_KEY}`, `Bearer  ${TEST_KEY}`, `Bearer ${TEST_KEY} `, `Basic ${TEST_KEY}`, TEST_KEY,
    `Bearer ${TEST_KEY.slice(0, -1)}`, `Bearer ${TEST_KEY}x`, 'Bearer ', 'Bearer'),
  printable(80)
), { nil: undefined })

const otherHeaders = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((name) => !['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade'].includes(name)),
  printable(100),
  { maxKeys: 4 }
)

// A small pool of addresses, so some reach the failure limit and get 429, among many fresh ones.
const remoteAddress = fc.oneof(fc.constantFrom('203.0.113.1', '203.0.113.2', '2001:db8::1'), fc.ipV4())

const request = fc.record({ method, path, body, contentType, authorization, otherHeaders, remoteAddress })
type Request = typeof request extends fc.Arbitrary<infer R> ? R : never

function headersOf ({ contentType, authorization, otherHeaders }: Request): Record<string, string> {
  return {
    ...otherHeaders,
    ...(contentType !== undefined && { 'content-type': contentType }),
    ...(authorization !== undefined && { authorization })
  }
}

/** What every answer must look like, whatever was asked. */
function checkAnswer (req: Request, res: LightMyRequestResponse): void {
  if (res.statusCode < 200 || res.statusCode >= 500) throw new Error(`status ${res.statusCode}`)
  if (res.body.includes(TEST_KEY)) throw new Error('the key was echoed')
  if (req.method === 'HEAD') return
  if (!String(res.headers['content-type']).startsWith('application/json')) throw new Error(`content type ${res.headers['content-type']}`)
  const answer = JSON.parse(res.body) as Record<string, unknown>
  if (res.statusCode >= 400) {
    const { statusCode, code, error, message } = answer
    if (statusCode !== res.statusCode || typeof code !== 'string' || typeof error !== 'string' || typeof message !== 'string') {
      throw new Error(`malformed error ${res.body}`)
    }
    if (!isErrorCode(code)) throw new Error(`error code ${code} is not in the catalogue (src/errors.ts)`)
  } else if (!('status' in answer) && !(typeof answer.active === 'boolean' && typeof answer.sessions === 'number')) {
    throw new Error(`unexpected 2xx body ${res.body}`)
  }
}

t.test(`${RUNS} random requests: every answer a well-formed 2xx or 4xx, and only authenticated valid ones change the state`, async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  // The process store: its record shows every mutation, a deadline moved included.
  const store = app.liveState as LiveState
  let changes = 0
  const statuses = new Map<number, number>()

  await fc.assert(fc.asyncProperty(request, async (req) => {
    // Time moves between requests, so even a heartbeat that only moves a deadline shows in the record.
    clock.advance(1)
    const before = JSON.stringify(store.toRecord())
    const res = await app.inject({ method: req.method as 'GET', url: req.path, headers: headersOf(req), payload: req.body, remoteAddress: req.remoteAddress })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    checkAnswer(req, res)
    if (JSON.stringify(store.toRecord()) !== before) {
      changes++
      const authenticated = req.authorization?.includes(TEST_KEY) === true
      // inject resolves dot segments as a URL parser does: "/healthz/../api/live/stop" is the stop route.
      const route = new URL(req.path, 'http://localhost').pathname
      if (res.statusCode !== 200 || req.method !== 'POST' || !route.startsWith('/api/live/') || !authenticated) {
        throw new Error(`state changed by ${req.method} ${req.path} answered ${res.statusCode}`)
      }
    }
  }), { numRuns: RUNS })

  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, state changes: ${changes}`)
  t.ok(changes > 0, 'some requests were valid and did change the state')
  for (const status of [200, 400, 401, 404, 413, 415, 429]) t.ok(statuses.has(status), `some answered ${status}`)
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'still serving')
})
