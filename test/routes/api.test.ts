import t from 'tap'
import { AUTH, buildTestApp, TEST_KEY } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { IS_OFFLINE, OFFLINE } from '../helpers/states.ts'
import { errorBody } from '../../src/errors.ts'

t.test('heartbeat with a session id goes live and answers with the public state', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'abc-123' } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const since = new Date(clock.wallNow()).toISOString()
  t.same(res.json(), { seq: 1, active: true, status: 'live', since, sessions: 1, lastSeen: null, activity: [{ status: 'live', since }] })
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
  t.match(afterAll.json(), IS_OFFLINE)
})

t.test('stop with an empty object ends all sessions', async (t) => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a' } })
  const res = await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH, payload: {} })
  t.match(res.json(), IS_OFFLINE)
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

t.test('a heartbeat says what the session is doing: status and activity reach the public state', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const post = (payload: object) => app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload })
  await post({ session_id: 'a', status: 'idle' })
  clock.advance(1000)
  const res = await post({ session_id: 'a', status: 'working', activity: { model: 'Opus 4.5', project: 'blog', tool: 'running commands' } })
  t.equal(res.statusCode, 200)
  const since = new Date(clock.wallNow()).toISOString()
  t.match(res.json(), { seq: 2, status: 'working', activity: [{ status: 'working', since, model: 'Opus 4.5', project: 'blog', tool: 'running commands' }] })
  t.match((await post({ session_id: 'a' })).json(), { seq: 2, status: 'working' }, 'without a status it keeps its last one')
})

t.test('every invalid status or activity field is a 400 naming the field, and changes nothing', async (t) => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'keep', status: 'idle' } })
  const before = app.liveState.snapshot
  const cases: Array<[string, object, RegExp]> = [
    ['an unknown status', { status: 'sleeping' }, /body\/status must be equal to one of the allowed values/],
    ['offline is not a session status', { status: 'offline' }, /body\/status/],
    ['a status that is not a string', { status: 1 }, /body\/status/],
    ['activity that is not an object', { activity: 'editing' }, /body\/activity must be object/],
    ['a model of 49 characters', { activity: { model: 'm'.repeat(49) } }, /body\/activity\/model must NOT have more than 48/],
    ['an empty project', { activity: { project: '' } }, /body\/activity\/project must NOT have fewer than 1/],
    ['a newline', { activity: { project: 'blog\nrm -rf' } }, /body\/activity\/project must match pattern/],
    ['an escape sequence', { activity: { model: 'Opus\u001b[31m' } }, /body\/activity\/model must match pattern/],
    ['a right-to-left override', { activity: { project: 'blog\u202Egnp.exe' } }, /body\/activity\/project must match pattern/],
    ['a zero-width space', { activity: { project: 'bl\u200Bog' } }, /body\/activity\/project must match pattern/],
    ['a line separator', { activity: { project: 'a\u2028b' } }, /body\/activity\/project must match pattern/],
    ['a leading space', { activity: { model: ' Opus' } }, /body\/activity\/model must match pattern/],
    ['a model that is not a string', { activity: { model: 4.5 } }, /body\/activity\/model must be string/],
    ['a tool that is not a verb', { activity: { tool: 'Bash' } }, /body\/activity\/tool must be equal to one of the allowed values/],
    ['a command as the tool', { activity: { tool: 'running commands: rm -rf /' } }, /body\/activity\/tool/]
  ]
  for (const [name, fields, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'keep', ...fields } })
    t.equal(res.statusCode, 400, name)
    t.match(res.json(), { statusCode: 400, code: 'FST_ERR_VALIDATION', message }, `${name}: says which field`)
  }
  t.equal(app.liveState.snapshot, before, 'state untouched')
})

t.test('names up to 48 printable characters, in any script, are accepted', async (t) => {
  const app = await buildTestApp(t)
  for (const project of ['x', 'blog', 'my blog · v2', 'ブログ', 'café-☕', 'p'.repeat(48), '😀'.repeat(48)]) {
    const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a', activity: { project } } })
    t.equal(res.statusCode, 200, project)
    t.equal(res.json().activity[0].project, project)
  }
})

t.test('CC_LIVE_PUBLIC_FIELDS: what it does not name is never published', async (t) => {
  const activity = { model: 'Opus 4.5', project: 'blog', tool: 'editing' }
  const cases: Array<[string, string[]]> = [['model,project,tool', ['model', 'project', 'tool']], ['tool', ['tool']], [' project , model ', ['model', 'project']], ['', []]]
  for (const [setting, published] of cases) {
    const app = await buildTestApp(t, { env: { CC_LIVE_PUBLIC_FIELDS: setting } })
    const res = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a', activity } })
    const { status, since, ...fields } = res.json().activity[0]
    t.same(Object.keys(fields).sort(), published, JSON.stringify(setting))
    for (const [field, value] of Object.entries(activity)) {
      if (!published.includes(field)) t.notOk(res.body.includes(value), `${field} is not in the answer`)
    }
    t.ok(status === 'live' && typeof since === 'string')
    await app.close()
  }
})

t.test('an unknown field in CC_LIVE_PUBLIC_FIELDS stops start-up, naming it', async (t) => {
  await t.rejects(buildTestApp(t, { env: { CC_LIVE_PUBLIC_FIELDS: 'model,branch' } }),
    { name: 'ConfigError', message: 'CC_LIVE_PUBLIC_FIELDS: "branch" is not one of model, project, tool' })
})

t.test('past CC_LIVE_MAX_SESSIONS a new session gets 429 with Retry-After; known sessions and stops go on', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock, env: { CC_LIVE_MAX_SESSIONS: '2' } })
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: AUTH, payload })
  await post('/api/live/heartbeat', { session_id: 'a' })
  clock.advance(20_000)
  await post('/api/live/heartbeat', { session_id: 'b' })
  clock.advance(500)
  const before = app.liveState.snapshot
  const refused = await post('/api/live/heartbeat', { session_id: 'c', status: 'working' })
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '40', 'seconds until the earliest session expires, rounded up')
  t.same(refused.json(), errorBody('CC_LIVE_TOO_MANY_SESSIONS'))
  t.equal(app.liveState.snapshot, before, 'nothing changed')
  t.equal((await post('/api/live/heartbeat', { session_id: 'a', status: 'working' })).statusCode, 200, 'a known session still beats')
  t.equal((await post('/api/live/stop', { session_id: 'b' })).statusCode, 200, 'stops work')
  t.equal((await post('/api/live/heartbeat', { session_id: 'c' })).statusCode, 200, 'and make room')
})

t.test('POST /api/live/check: 204 with the key, 401 without, and nothing changes', async (t) => {
  const app = await buildTestApp(t)
  const ok = await app.inject({ method: 'POST', url: '/api/live/check', headers: AUTH })
  t.equal(ok.statusCode, 204)
  t.equal(ok.body, '')
  const refused = await app.inject({ method: 'POST', url: '/api/live/check', headers: { authorization: 'Bearer wrong-key-0123456789abcdef' } })
  t.equal(refused.statusCode, 401)
  t.same(app.liveState.snapshot.state, OFFLINE)
})
