import t from 'tap'
import { AUTH, buildTestApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { injectViewer } from '../helpers/viewer.js'
import { OFFLINE } from '../helpers/states.js'

t.test('a plain GET answers with the snapshot, uncached and open to any origin', async (t) => {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const offline = await app.inject({ url: '/ws/live' })
  t.equal(offline.statusCode, 200)
  t.equal(offline.headers['cache-control'], 'no-store')
  t.equal(offline.headers['access-control-allow-origin'], '*')
  t.match(offline.headers['content-type'], /^application\/json/)
  t.same(offline.json(), OFFLINE)

  app.liveState.heartbeat('a')
  const live = await app.inject({ url: '/ws/live' })
  t.same(live.json(), { active: true, since: new Date(clock.now()).toISOString(), sessions: 1 })
})

t.test('a viewer first gets the current state', async (t) => {
  const app = await buildTestApp(t)
  app.liveState.heartbeat('a')
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

  await post('/api/live/heartbeat', 'a')
  const since = new Date(clock.now()).toISOString()
  clock.advance(1000)
  await post('/api/live/heartbeat', 'a')
  await post('/api/live/heartbeat', 'b')
  await post('/api/live/stop', 'a')
  clock.advance(60_000)
  await post('/api/live/heartbeat', 'c')
  const sinceC = new Date(clock.now()).toISOString()
  await post('/api/live/stop')

  t.same(await viewer.upTo(7), [
    OFFLINE,
    { active: true, since, sessions: 1 },
    { active: true, since, sessions: 2 },
    { active: true, since, sessions: 1 },
    OFFLINE,
    { active: true, since: sinceC, sessions: 1 },
    OFFLINE
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
