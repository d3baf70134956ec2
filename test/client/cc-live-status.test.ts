import t, { type Test } from 'tap'
import { Backoff, formatDuration, formatLabel, subscribe } from '../../client/cc-live-status.js'
import { FakeTransport } from '../helpers/fake-transport.js'
import { OFFLINE } from '../helpers/states.js'

type View = Parameters<typeof formatLabel>[0]

const SINCE = '2026-01-01T10:00:00.000Z'
const at = (minutes: number) => Date.parse(SINCE) + minutes * 60_000
const LIVE = JSON.stringify({ active: true, since: SINCE, sessions: 1 })

t.test('backoff: full jitter below a window that doubles per failure, capped', async (t) => {
  const windows = new Backoff({ base: 1000, cap: 30_000, random: () => 1 })
  t.same(Array.from({ length: 7 }, () => windows.next()), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
  const draws = [0, 0.5, 0.25]
  const jittered = new Backoff({ base: 1000, random: () => draws.shift() ?? 0 })
  t.same([jittered.next(), jittered.next(), jittered.next()], [0, 1000, 1000], 'uniform between 0 and the window')
  t.equal(new Backoff().next() < 1000, true, 'defaults: the first window is 1 s')
})

t.test('backoff: a healthy connection starts the backoff over, a short-lived one does not', async (t) => {
  let now = 0
  const backoff = new Backoff({ base: 100, healthyMs: 10_000, random: () => 1, now: () => now })
  t.same([backoff.next(), backoff.next(), backoff.next()], [100, 200, 400])
  backoff.opened()
  now += 9_999
  t.equal(backoff.next(), 800, 'up for less than healthyMs: still backing off')
  backoff.opened()
  now += 10_000
  t.equal(backoff.next(), 100, 'up for healthyMs: back to the first window')
  t.equal(backoff.next(), 200, 'and a failure right after grows it again')
  backoff.reset()
  t.equal(backoff.next(), 100, 'reset() starts over too')
})

t.test('label: "live · N min" while live, counted from since', async (t) => {
  const live: View = { status: 'live', since: SINCE, sessions: 1, transport: 'websocket' }
  t.equal(formatLabel(live, at(42.9)), 'live · 42 min')
  t.equal(formatLabel(live, at(0.5)), 'live · <1 min')
  t.equal(formatLabel(live, at(65)), 'live · 1 h 5 min')
  t.equal(formatLabel(live, at(120)), 'live · 2 h')
  t.equal(formatDuration(SINCE, at(-3)), '<1 min', 'a browser clock behind the server never shows a negative time')
  t.equal(formatLabel({ ...live, since: null }), 'live')
})

t.test('label: offline, connecting, and reconnecting, which never reads as offline', async (t) => {
  const base: View = { status: 'offline', since: null, sessions: 0, transport: 'websocket' }
  t.equal(formatLabel(base), 'offline')
  t.equal(formatLabel({ ...base, status: 'connecting' }), 'connecting…')
  const reconnecting = formatLabel({ ...base, status: 'reconnecting' })
  t.equal(reconnecting, 'reconnecting…')
  t.equal(formatLabel({ status: 'reconnecting', since: SINCE, sessions: 1, transport: null }, at(5)), 'reconnecting…',
    'the last live state is not shown as current either')
})

/** Subscribes to a fresh URL with fake transports; unsubscribed when the test ends. */
function subscribeFake (t: Test, names: string[], options: { retryMs?: number, maxRetryMs?: number, random?: () => number } = {}) {
  const transports = Object.fromEntries(names.map((name) => [name, new FakeTransport()]))
  const views: View[] = []
  const unsubscribe = subscribe(`ws://unit.test/${t.fullname.replace(/\W+/g, '-')}`, (view) => views.push(view), {
    random: () => 0,
    ...options,
    transports: Object.fromEntries(Object.entries(transports).map(([name, fake]) => [name, fake.open]))
  })
  t.teardown(unsubscribe)
  return { transports, views, unsubscribe }
}

t.test('state messages become views, and a drop shows reconnecting with the last state kept', async (t) => {
  const { transports, views } = subscribeFake(t, ['websocket'])
  t.same(views, [{ status: 'connecting', since: null, sessions: 0, transport: null }], 'told at once, before any message')
  const socket = await transports.websocket!.connection(0)
  socket.send(LIVE)
  t.same(views.at(-1), { status: 'live', since: SINCE, sessions: 1, transport: 'websocket' })
  socket.send('not json')
  socket.send(LIVE)
  t.equal(views.length, 2, 'malformed and unchanged messages are not news')

  socket.end(1006)
  t.same(views.at(-1), { status: 'reconnecting', since: SINCE, sessions: 1, transport: 'websocket' })
  t.equal(socket.closed, true)
  const again = await transports.websocket!.connection(1)
  again.send(JSON.stringify(OFFLINE))
  t.equal(views.at(-1)!.status, 'offline')
  again.end(1006)
  t.equal(views.at(-1)!.status, 'reconnecting', 'a drop while offline is reconnecting too, never offline')
})

t.test('until one has worked, a transport that fails before its first state hands over to the next at once', async (t) => {
  const { transports, views } = subscribeFake(t, ['websocket', 'sse', 'poll'])
  const socket = await transports.websocket!.connection(0)
  socket.end(1006)
  t.equal(transports.sse!.opened, 1, 'no backoff wait between transports')
  t.equal(views.at(-1)!.status, 'connecting', 'not reconnecting while another transport is still to try')
  const source = await transports.sse!.connection(0)
  source.send(LIVE)
  t.equal(views.at(-1)!.transport, 'sse')

  source.end()
  ;(await transports.sse!.connection(1)).end()
  await transports.sse!.connection(2)
  t.equal(transports.websocket!.opened + transports.poll!.opened, 1, 'from then on only the transport that worked is retried')
})

t.test('once WebSocket has worked, an outage that refuses everything does not leave the page on a fallback', async (t) => {
  const { transports } = subscribeFake(t, ['websocket', 'sse'])
  const socket = await transports.websocket!.connection(0)
  socket.send(LIVE)
  socket.end(1001)
  ;(await transports.websocket!.connection(1)).end(1006)
  const back = await transports.websocket!.connection(2)
  back.send(LIVE)
  t.equal(transports.sse!.opened, 0)
})

t.test('when every transport fails, the round waits for the backoff and starts over', async (t) => {
  const { transports, views } = subscribeFake(t, ['websocket', 'sse'])
  ;(await transports.websocket!.connection(0)).end(1006)
  ;(await transports.sse!.connection(0)).end()
  t.equal(views.at(-1)!.status, 'reconnecting')
  const retry = await transports.websocket!.connection(1)
  retry.send(JSON.stringify(OFFLINE))
  t.equal(views.at(-1)!.status, 'offline')
})

t.test('after a 1001 close the next attempt comes within the first window, whatever failed before', async (t) => {
  let draw = 0
  // Twelve quick failures (draw 0) grow the window to 20 ms × 2¹² ≈ 80 s, past the test timeout; then every draw is the whole window.
  const { transports } = subscribeFake(t, ['websocket'], { retryMs: 20, maxRetryMs: 120_000, random: () => draw })
  for (let i = 0; i < 12; i++) (await transports.websocket!.connection(i)).end(1006)
  const socket = await transports.websocket!.connection(12)
  socket.send(LIVE)
  draw = 1
  socket.end(1001)
  await transports.websocket!.connection(13)
  t.pass('reconnected within the 20 ms window, not the 80 s one')
})

t.test('subscribers to one URL share one connection; the last to leave closes it', async (t) => {
  const first = subscribeFake(t, ['websocket'])
  const socket = await first.transports.websocket!.connection(0)
  socket.send(LIVE)
  const seen: View[] = []
  const url = `ws://unit.test/${t.fullname.replace(/\W+/g, '-')}`
  const unsubscribeSecond = subscribe(url, (view) => seen.push(view))
  t.same(seen, [first.views.at(-1)], 'a late subscriber gets the current view at once')
  socket.send(JSON.stringify(OFFLINE))
  t.equal(seen.at(-1)!.status, 'offline', 'and every change')
  t.equal(first.transports.websocket!.opened, 1, 'over the same connection')
  first.unsubscribe()
  t.equal(socket.closed, false, 'still open for the second subscriber')
  unsubscribeSecond()
  t.equal(socket.closed, true, 'closed with the last one')
})
