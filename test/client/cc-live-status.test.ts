import t, { type Test } from 'tap'
import { activityLine, Backoff, formatAgo, formatDuration, formatLabel, subscribe, toView } from '../../client/cc-live-status.js'
import { FakeTransport } from '../helpers/fake-transport.ts'
import { OFFLINE } from '../helpers/states.ts'

type View = Parameters<typeof formatLabel>[0]
type Activity = View['activity'][number]

const SINCE = '2026-01-01T10:00:00.000Z'
const at = (minutes: number) => Date.parse(SINCE) + minutes * 60_000
/** A v1 server's message: no status, lastSeen, seq or activity. */
const LIVE = JSON.stringify({ active: true, since: SINCE, sessions: 1 })
const EDITING: Activity = { status: 'working', since: SINCE, model: 'Opus 4.5', project: 'blog', tool: 'editing' }
/** A view as a v2 server's state makes it, live since SINCE with one session. */
const view = (status: View['status'], fields: Partial<View> = {}): View =>
  ({ status, since: SINCE, sessions: 1, lastSeen: null, activity: [], transport: 'websocket', ...fields })
/** A v2 server's message, numbered `seq`. */
const v2 = (seq: number, status = 'working') => JSON.stringify({ active: true, status, since: SINCE, sessions: 1, lastSeen: null, seq, activity: [] })

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
  const live = view('live')
  t.equal(formatLabel(live, at(42.9)), 'live · 42 min')
  t.equal(formatLabel(live, at(0.5)), 'live · <1 min')
  t.equal(formatLabel(live, at(65)), 'live · 1 h 5 min')
  t.equal(formatLabel(live, at(120)), 'live · 2 h')
  t.equal(formatDuration(SINCE, at(-3)), '<1 min', 'a browser clock behind the server never shows a negative time')
  t.equal(formatLabel({ ...live, since: null }), 'live')
})

t.test('label: each live status says its own word, with the time live since `since`', async (t) => {
  for (const status of ['working', 'waiting', 'idle', 'live'] as const) {
    t.equal(formatLabel(view(status), at(42)), `${status} · 42 min`)
  }
})

t.test('label: offline says when last seen, coarsely, and nothing when never seen', async (t) => {
  const offline = view('offline', { since: null, sessions: 0 })
  t.equal(formatLabel(offline, at(130)), 'offline', 'lastSeen null: nothing to say')
  t.equal(formatLabel({ ...offline, lastSeen: SINCE }, at(130)), 'offline · last seen 2 h ago')
  t.equal(formatLabel({ ...offline, lastSeen: SINCE, activity: [EDITING] }, at(1)), 'offline · last seen 1 min ago',
    'no activity line while offline, even if a message carried one')
})

t.test('last seen: just now, minutes, whole hours, whole days', async (t) => {
  t.equal(formatAgo(SINCE, at(0.9)), 'just now')
  t.equal(formatAgo(SINCE, at(-5)), 'just now', 'a browser clock behind the server never shows a negative time')
  t.equal(formatAgo(SINCE, at(1)), '1 min ago')
  t.equal(formatAgo(SINCE, at(59.9)), '59 min ago')
  t.equal(formatAgo(SINCE, at(60)), '1 h ago')
  t.equal(formatAgo(SINCE, at(179)), '2 h ago', 'coarse: the hours are whole')
  t.equal(formatAgo(SINCE, at(24 * 60 - 1)), '23 h ago')
  t.equal(formatAgo(SINCE, at(24 * 60)), '1 d ago')
  t.equal(formatAgo(SINCE, at(10 * 24 * 60 + 700)), '10 d ago')
})

t.test('activity line: the first session in the status shown, else the first; only the fields shared', async (t) => {
  const idle: Activity = { status: 'idle', since: SINCE, model: 'Sonnet 4.5', project: 'docs' }
  t.equal(activityLine(view('working', { activity: [idle, EDITING] })), 'Opus 4.5 · blog · editing',
    'the working session, though the idle one changed more recently')
  t.equal(activityLine(view('working', { activity: [EDITING, { ...EDITING, model: 'Haiku 4.5' }] })), 'Opus 4.5 · blog · editing',
    'of two in the status shown, the most recently changed')
  t.equal(activityLine(view('waiting', { activity: [idle, EDITING] })), 'Sonnet 4.5 · docs', 'none in the status shown: the first')
  t.equal(activityLine(view('working', { activity: [{ status: 'working', since: SINCE, tool: 'running commands' }] })), 'running commands')
  t.equal(activityLine(view('working', { activity: [{ status: 'working', since: SINCE }] })), '', 'nothing shared: no line')
  t.equal(activityLine(view('live')), '', 'no session listed (a v1 server): no line')
})

t.test('label: the activity line follows the time live, only while live', async (t) => {
  t.equal(formatLabel(view('working', { activity: [EDITING] }), at(42)), 'working · 42 min · Opus 4.5 · blog · editing')
  t.equal(formatLabel(view('working', { since: null, activity: [EDITING] })), 'working · Opus 4.5 · blog · editing')
  t.equal(formatLabel(view('reconnecting', { activity: [EDITING] }), at(42)), 'reconnecting…',
    'the last state heard is not shown as current')
})

t.test('label: offline, connecting, and reconnecting, which never reads as offline', async (t) => {
  const base = view('offline', { since: null, sessions: 0 })
  t.equal(formatLabel(base), 'offline')
  t.equal(formatLabel({ ...base, status: 'connecting' }), 'connecting…')
  const reconnecting = formatLabel({ ...base, status: 'reconnecting', lastSeen: SINCE })
  t.equal(reconnecting, 'reconnecting…')
  t.equal(formatLabel(view('reconnecting'), at(5)), 'reconnecting…', 'the last live state is not shown as current either')
})

t.test('views: a v2 state as it is, a v1 state as live or offline', async (t) => {
  const activity = [EDITING]
  t.same(toView({ active: true, status: 'waiting', since: SINCE, sessions: 1, lastSeen: SINCE, seq: 3, activity }, 'sse'),
    { status: 'waiting', since: SINCE, sessions: 1, lastSeen: SINCE, activity, transport: 'sse' }, 'seq is not part of the view')
  t.same(toView({ active: true, since: SINCE, sessions: 2 }, 'websocket'),
    { status: 'live', since: SINCE, sessions: 2, lastSeen: null, activity: [], transport: 'websocket' })
  t.equal(toView({ active: false, since: null, sessions: 0 }, 'poll').status, 'offline')
  t.equal(toView({ active: true, status: 'compacting', since: SINCE, sessions: 1 }, 'websocket').status, 'live',
    'a status from a newer server reads as live or offline, never as a word the element has no shape for')
  t.equal(toView({ active: true, status: 'reconnecting', since: SINCE, sessions: 1 }, 'websocket').status, 'live',
    'a server cannot claim a client-side state')
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
  t.same(views, [{ status: 'connecting', since: null, sessions: 0, lastSeen: null, activity: [], transport: null }], 'told at once, before any message')
  const socket = await transports.websocket!.connection(0)
  socket.send(LIVE)
  t.same(views.at(-1), view('live'))
  socket.send('not json')
  socket.send(LIVE)
  t.equal(views.length, 2, 'malformed and unchanged messages are not news')

  socket.end(1006)
  t.same(views.at(-1), view('reconnecting'))
  t.equal(socket.closed, true)
  const again = await transports.websocket!.connection(1)
  again.send(JSON.stringify(OFFLINE))
  t.equal(views.at(-1)!.status, 'offline')
  again.end(1006)
  t.equal(views.at(-1)!.status, 'reconnecting', 'a drop while offline is reconnecting too, never offline')
})

t.test('a message whose seq is not newer than the last one on its connection is ignored', async (t) => {
  const { transports, views } = subscribeFake(t, ['websocket'])
  const socket = await transports.websocket!.connection(0)
  socket.send(v2(5, 'waiting'))
  socket.send(v2(4, 'working'))
  socket.send(v2(5, 'idle'))
  t.same(views.map(({ status }) => status), ['connecting', 'waiting'], 'older and repeated seq: stale')
  socket.send(v2(7, 'idle'))
  t.equal(views.at(-1)!.status, 'idle', 'a gap is fine: changes may be coalesced')
  socket.send(LIVE)
  t.equal(views.at(-1)!.status, 'live', 'a message without seq (an old server) is taken as it comes')

  socket.end(1006)
  const again = await transports.websocket!.connection(1)
  again.send(v2(1, 'working'))
  t.equal(views.at(-1)!.status, 'working', 'a new connection starts its own count: a restarted server may number from 1')
})

t.test('a message on a fresh request (each poll) is not ordered after the last one', async (t) => {
  const { transports, views } = subscribeFake(t, ['poll'])
  const poll = await transports.poll!.connection(0)
  poll.send(v2(9, 'working'), true)
  poll.send(v2(2, 'idle'), true)
  t.equal(views.at(-1)!.status, 'idle', 'a server restarted between two polls numbers from the start again')
  poll.send(v2(2, 'waiting'))
  t.equal(views.at(-1)!.status, 'idle', 'within one stream the order still holds')
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
