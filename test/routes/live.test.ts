import t from 'tap'
import { AUTH, buildTestApp } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { injectViewer } from '../helpers/viewer.ts'
import { IS_OFFLINE, OFFLINE } from '../helpers/states.ts'

t.test('a plain GET answers with the snapshot, uncached and open to any origin', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const offline = await app.inject({ url: '/ws/live' })
  t.equal(offline.statusCode, 200)
  t.equal(offline.headers['cache-control'], 'no-store')
  t.equal(offline.headers['access-control-allow-origin'], '*')
  t.match(offline.headers['content-type'], /^application\/json/)
  t.same(offline.json(), OFFLINE)

  await app.liveState.heartbeat({ sessionId: 'a' })
  const live = await app.inject({ url: '/ws/live' })
  const since = new Date(clock.wallNow()).toISOString()
  t.same(live.json(), { seq: 1, active: true, status: 'live', since, sessions: 1, lastSeen: null, activity: [{ status: 'live', since }] })
  t.equal(live.body, app.liveState.snapshot.json, 'the snapshot\'s own bytes')
})

t.test('a viewer first gets the current state', async (t) => {
  const app = await buildTestApp(t)
  await app.liveState.heartbeat({ sessionId: 'a' })
  const viewer = await injectViewer(app)
  t.same(await viewer.upTo(1), [app.liveState.snapshot.state])
  viewer.socket.terminate()
})

t.test('then exactly one message per public change, in order, none for a repeated heartbeat', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const viewer = await injectViewer(app)
  const post = (url: string, sessionId?: string) =>
    app.inject({ method: 'POST', url, headers: AUTH, ...(sessionId && { payload: { session_id: sessionId } }) })

  const iso = () => new Date(clock.wallNow()).toISOString()
  await post('/api/live/heartbeat', 'a')
  const since = iso()
  clock.advance(1000)
  await post('/api/live/heartbeat', 'a')
  await post('/api/live/heartbeat', 'b')
  const sinceB = iso()
  await post('/api/live/stop', 'a')
  clock.advance(60_000)
  const lastSeen = iso()
  await post('/api/live/heartbeat', 'c')
  const sinceC = iso()
  await post('/api/live/stop')

  const messages = await viewer.upTo(7)
  t.same(messages.map(({ seq }) => seq), [0, 1, 2, 3, 4, 5, 6], 'one seq per change, none skipped')
  t.match(messages, [
    OFFLINE,
    { active: true, since, sessions: 1, activity: [{ since }] },
    { active: true, since, sessions: 2, activity: [{ since: sinceB }, { since }] },
    { active: true, since, sessions: 1, activity: [{ since: sinceB }] },
    { ...IS_OFFLINE, lastSeen },
    { active: true, since: sinceC, sessions: 1, lastSeen },
    { ...IS_OFFLINE, lastSeen: sinceC }
  ])
  // Another viewer joining now proves everything above reached the first one: no extra message came.
  const late = await injectViewer(app)
  await late.upTo(1)
  t.equal(viewer.messages.length, 7)
  viewer.socket.terminate()
  late.socket.terminate()
})

t.test('bad or unauthenticated requests send viewers nothing', async (t) => {
  const app = await buildTestApp(t)
  const viewer = await injectViewer(app)
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', payload: { session_id: 'a' } })
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a b' } })
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'ok' } })
  const messages = await viewer.upTo(2)
  t.same(messages.map((state) => state.sessions), [0, 1], 'only the valid heartbeat was broadcast')
  viewer.socket.terminate()
})

t.test('healthz answers while the process can serve', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})
