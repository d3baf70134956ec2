import t from 'tap'
import { AUTH, buildTestApp, TEST_KEY } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { OFFLINE } from '../helpers/states.js'

t.test('heartbeat with a session id goes live and answers with the public state', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'abc-123' } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { active: true, since: new Date(clock.now()).toISOString(), sessions: 1 })
  t.notMatch(res.body, /abc-123/, 'session ids never leave the server')
})

t.test('heartbeat without a body counts as one default session', async (t) => {
  const app = await buildTestApp(t)
  for (const headers of [AUTH, { ...AUTH, 'content-type': 'application/json' }]) {
    const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers })
    t.equal(res.statusCode, 200)
    t.equal(res.json().sessions, 1)
  }
})

t.test('unknown fields are ignored', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a', cwd: '/x', version: 2 } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().sessions, 1)
})

t.test('two sessions, stop one, then stop all', async (t) => {
  const app = await buildTestApp(t)
  const post = (url: string, payload?: object) => app.inject({ method: 'POST', url, headers: AUTH, ...(payload && { payload }) })
  await post('/api/live/heartbeat', { session_id: 'a' })
  t.equal((await post('/api/live/heartbeat', { session_id: 'b' })).json().sessions, 2)
  const afterOne = await post('/api/live/stop', { session_id: 'a' })
  t.equal(afterOne.statusCode, 200)
  t.match(afterOne.json(), { active: true, sessions: 1 })
  await post('/api/live/heartbeat', { session_id: 'c' })
  const afterAll = await post('/api/live/stop')
  t.equal(afterAll.statusCode, 200)
  t.same(afterAll.json(), OFFLINE)
})

t.test('stop with an empty object ends all sessions', async (t) => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a' } })
  const res = await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH, payload: {} })
  t.same(res.json(), OFFLINE)
})

t.test('a missing or wrong key is refused with 401 and changes nothing', async (t) => {
  const app = await buildTestApp(t)
  const cases = {
    'no header': {},
    'wrong key': { authorization: 'Bearer wrong-key-0123456789abcdef' },
    'key with a suffix': { authorization: `Bearer ${TEST_KEY}x` },
    'key prefix': { authorization: `Bearer ${TEST_KEY.slice(0, -1)}` },
    'basic scheme': { authorization: `Basic ${TEST_KEY}` },
    'no scheme': { authorization: TEST_KEY }
  }
  // Each case from its own address, so the failure limit (tested on its own) stays out of the way.
  for (const [index, [name, headers]] of Object.entries(cases).entries()) {
    for (const url of ['/api/live/heartbeat', '/api/live/stop']) {
      const res = await app.inject({ method: 'POST', url, headers, payload: { session_id: 'a' }, remoteAddress: `192.0.2.${index}` })
      t.equal(res.statusCode, 401, `${name} ${url}`)
      t.equal(res.headers['www-authenticate'], 'Bearer realm="cc-live"')
      t.match(res.json(), { statusCode: 401, error: 'Unauthorized', message: String })
      t.notMatch(res.body, TEST_KEY.slice(0, 8), 'the key is never echoed')
    }
  }
  t.same(app.liveState.snapshot.state, OFFLINE)
})

t.test('a wrong key with a bad body is still a 401: auth runs before parsing', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: { 'content-type': 'application/json' }, payload: '{oops' })
  t.equal(res.statusCode, 401)
})

t.test('bad input gets a 4xx that says what is wrong and changes nothing', async (t) => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'keep' } })
  const before = app.liveState.snapshot
  const json = { ...AUTH, 'content-type': 'application/json' }
  const cases: Array<[string, Record<string, string>, string, number, RegExp]> = [
    ['malformed JSON', json, '{"session_id":', 400, /not valid JSON/],
    ['a number for the id', json, '{"session_id":42}', 400, /session_id must be string/],
    ['an empty id', json, '{"session_id":""}', 400, /session_id must NOT have fewer than 1/],
    ['an id of 129 chars', json, JSON.stringify({ session_id: 'a'.repeat(129) }), 400, /session_id must NOT have more than 128/],
    ['an id with a space', json, '{"session_id":"a b"}', 400, /session_id must match pattern/],
    ['an id with a slash', json, '{"session_id":"../x"}', 400, /session_id must match pattern/],
    ['a JSON array', json, '[]', 400, /body must be object/],
    ['JSON null', json, 'null', 400, /body must be object/],
    ['a JSON string', json, '"abc"', 400, /body must be object/],
    ['text/plain', { ...AUTH, 'content-type': 'text/plain' }, 'hello', 415, /Unsupported Media Type/],
    ['a form', { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }, 'session_id=a', 415, /Unsupported Media Type/],
    ['a body over 4 KiB', json, JSON.stringify({ session_id: 'a', pad: 'x'.repeat(4096) }), 413, /too large/i],
    ['prototype pollution', json, '{"__proto__":{"x":1},"session_id":"p"}', 400, /not valid JSON/]
  ]
  for (const [name, headers, payload, statusCode, message] of cases) {
    for (const url of ['/api/live/heartbeat', '/api/live/stop']) {
      const res = await app.inject({ method: 'POST', url, headers, payload })
      t.equal(res.statusCode, statusCode, `${name} on ${url}`)
      t.match(res.json(), { statusCode, error: String, message }, `${name} on ${url} explains`)
    }
  }
  t.equal(app.liveState.snapshot, before, 'state untouched')
})

t.test('an id at the 128-char limit with every allowed character is accepted', async (t) => {
  const app = await buildTestApp(t)
  const id = 'aZ09._:-'.repeat(16)
  const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: id } })
  t.equal(res.statusCode, 200)
})

t.test('only POST is routed under /api/live', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/api/live/heartbeat', headers: AUTH })
  t.equal(res.statusCode, 404)
  t.same(app.liveState.snapshot.state, OFFLINE)
})
