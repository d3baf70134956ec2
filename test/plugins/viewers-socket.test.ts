import { once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import { AUTH, buildListeningTestApp } from '../helpers/app.ts'
import { closeCode, connectViewer, type ViewerClient } from '../helpers/viewer.ts'
import { OFFLINE } from '../helpers/states.ts'
import { appTrackingRequests, collectGarbage, reachable } from '../helpers/retention.ts'

t.test('real sockets: every viewer gets the current state, then each change', async (t) => {
  const app = await buildListeningTestApp(t)
  const viewers = await Promise.all([connectViewer(app), connectViewer(app)])
  const { port } = app.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${port}/api/live/heartbeat`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: 'laptop' })
  })
  const live = await res.json()
  for (const viewer of viewers) {
    t.same(await viewer.upTo(2), [OFFLINE, live])
    viewer.socket.close()
  }
})

t.test('a change is serialized once, whatever the number of viewers', async (t) => {
  const app = await buildListeningTestApp(t)
  const viewers = await Promise.all([1, 2, 3].map(() => connectViewer(app)))
  await Promise.all(viewers.map((viewer) => viewer.upTo(1)))
  const stringify = t.capture(JSON, 'stringify', JSON.stringify)
  app.liveState.heartbeat({ sessionId: 'a' })
  const calls = stringify.args().length
  stringify.restore()
  t.equal(calls, 1)
  for (const viewer of viewers) t.equal((await viewer.nth(2)).active, true)
  for (const viewer of viewers) viewer.socket.close()
})

t.test('the last session expiring reaches viewers within 1 s of its deadline', async (t) => {
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_TTL_SECONDS: '0.3' } })
  const viewer = await connectViewer(app)
  app.liveState.heartbeat({ sessionId: 'a' })
  const deadline = Date.now() + 300
  await viewer.nth(2)
  const offline = await viewer.nth(3)
  const lateness = Date.now() - deadline
  t.equal(offline.active, false)
  t.ok(lateness >= -5 && lateness < 1000, `arrived ${lateness} ms after the deadline`)
  viewer.socket.close()
})

t.test('keepalive: a viewer that never answers pings is cut, a healthy one stays', async (t) => {
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_PING_SECONDS: '0.05' } })
  const healthy = await connectViewer(app)
  const silent = await connectViewer(app, { autoPong: false })
  let pings = 0
  const threePings = new Promise<void>((resolve) => healthy.socket.on('ping', () => { if (++pings === 3) resolve() }))
  t.equal(await closeCode(silent.socket), 1006, 'terminated, no close handshake')
  await threePings
  t.equal(app.viewers.size, 1)
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal((await healthy.nth(2)).active, true, 'the healthy viewer still gets changes')
  healthy.socket.close()
})

t.test('viewer frames are ignored; one over 1 KiB closes only that viewer', async (t) => {
  const app = await buildListeningTestApp(t)
  const chatty = await connectViewer(app)
  const flooder = await connectViewer(app)
  chatty.socket.send('hello')
  flooder.socket.send('x'.repeat(1025))
  t.equal(await closeCode(flooder.socket), 1009, 'message too big')
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal((await chatty.nth(2)).active, true)
  t.equal(app.viewers.size, 1)
  chatty.socket.close()
})

t.test('a viewer that stops reading is cut once its backlog passes the bound; others get every change', async (t) => {
  const app = await buildListeningTestApp(t)
  const stuck = await connectViewer(app)
  const healthy = await connectViewer(app)
  await Promise.all([stuck.upTo(1), healthy.upTo(1)])
  // Stop reading from the socket: the server's unsent data for this viewer can only grow.
  ;(stuck.socket as unknown as { _socket: { pause (): void } })._socket.pause()
  const stuckClosed = once(stuck.socket, 'close')
  let changes = 0
  while (app.viewers.size === 2 && changes < 1_000_000) {
    app.liveState.heartbeat({ sessionId: 'x' })
    app.liveState.stop('x')
    changes += 2
    if (changes % 2000 === 0) await nextTurn()
  }
  t.equal(app.viewers.size, 1, `cut after ${changes} changes`)
  const last = await healthy.nth(changes + 1)
  t.same(last, app.liveState.snapshot.state, 'the healthy viewer got every change, the last one last')
  t.equal(healthy.messages.length, changes + 1)
  ;(stuck.socket as unknown as { _socket: { resume (): void } })._socket.resume()
  await stuckClosed
  healthy.socket.close()
})

t.test('shutdown closes every viewer with 1001 Going Away', async (t) => {
  const app = await buildListeningTestApp(t)
  const viewers: ViewerClient[] = await Promise.all([connectViewer(app), connectViewer(app)])
  const codes = Promise.all(viewers.map((viewer) => closeCode(viewer.socket)))
  await app.close()
  t.same(await codes, [1001, 1001])
})

t.test('an open viewer keeps nothing of its upgrade request, reply or request logger reachable', async (t) => {
  const { app, requests: upgrades } = await appTrackingRequests(t, (request) => request.ws)
  const viewer = await connectViewer(app)
  await viewer.upTo(1)
  await nextTurn()
  collectGarbage()
  t.equal(upgrades.length, 1)
  t.same(upgrades.map(reachable), [[]], 'request, raw request, reply and child logger collected while the viewer is open')
  app.liveState.heartbeat({ sessionId: 'a' })
  t.equal((await viewer.nth(2)).active, true, 'and the viewer still gets changes')
  viewer.socket.close()
})
