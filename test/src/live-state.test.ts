import t from 'tap'
import { DEFAULT_SESSION, LiveState } from '../../src/live-state.js'
import type { PublicState } from '../../src/public-state.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { OFFLINE } from '../helpers/states.js'

const TTL = 60_000

function setup () {
  const clock = new FakeClock()
  const store = new LiveState({ ttlMs: TTL, clock })
  const changes: PublicState[] = []
  store.onChange(({ state }) => changes.push(state))
  return { clock, store, changes }
}

t.test('starts offline', async (t) => {
  const { store } = setup()
  t.same(store.snapshot.state, OFFLINE)
  t.equal(store.snapshot.json, '{"active":false,"since":null,"sessions":0}')
})

t.test('the first heartbeat goes live and says since when', async (t) => {
  const { clock, store, changes } = setup()
  const snapshot = store.heartbeat('a')
  const expected = { active: true, since: new Date(clock.now()).toISOString(), sessions: 1 }
  t.same(snapshot.state, expected)
  t.same(changes, [expected])
  t.equal(snapshot.json, JSON.stringify(expected))
})

t.test('a repeated heartbeat extends the deadline and emits nothing', async (t) => {
  const { clock, store, changes } = setup()
  store.heartbeat('a')
  clock.advance(30_000)
  const before = store.snapshot
  t.equal(store.heartbeat('a'), before, 'same snapshot object: nothing public changed')
  clock.advance(59_999)
  t.equal(changes.length, 1, 'still live just before the extended deadline')
  t.equal(store.snapshot.state.active, true)
  clock.advance(1)
  t.same(changes.at(-1), OFFLINE, 'offline exactly ttl after the last heartbeat')
})

t.test('a second session counts and keeps the live period', async (t) => {
  const { clock, store, changes } = setup()
  store.heartbeat('a')
  const since = store.snapshot.state.since
  clock.advance(10_000)
  store.heartbeat('b')
  t.same(changes.at(-1), { active: true, since, sessions: 2 })
})

t.test('stopping one session leaves the other live', async (t) => {
  const { store, changes } = setup()
  store.heartbeat('a')
  store.heartbeat('b')
  const since = store.snapshot.state.since
  t.same(store.stop('a').state, { active: true, since, sessions: 1 })
  t.equal(changes.length, 3)
})

t.test('stopping an unknown session changes nothing', async (t) => {
  const { store, changes } = setup()
  store.heartbeat('a')
  store.stop('nobody')
  t.equal(changes.length, 1)
})

t.test('stop without an id ends every session at once', async (t) => {
  const { clock, store, changes } = setup()
  store.heartbeat('a')
  store.heartbeat('b')
  t.same(store.stop().state, OFFLINE)
  t.equal(changes.length, 3, 'one change for the stop, not one per session')
  t.same(clock.armed, [], 'no timer left armed')
})

t.test('expiry of one of two sessions, then of the last', async (t) => {
  const { clock, store, changes } = setup()
  store.heartbeat('a')
  const since = store.snapshot.state.since
  clock.advance(20_000)
  store.heartbeat('b')
  clock.advance(40_000)
  t.same(changes.at(-1), { active: true, since, sessions: 1 }, 'a expired at its own deadline')
  clock.advance(19_999)
  t.equal(changes.length, 3)
  clock.advance(1)
  t.same(changes.at(-1), OFFLINE, 'b expired at its own deadline')
  t.equal(changes.length, 4)
})

t.test('sessions expiring at the same instant make one change', async (t) => {
  const { clock, store, changes } = setup()
  store.heartbeat('a')
  store.heartbeat('b')
  clock.advance(TTL)
  t.equal(changes.length, 3)
  t.same(changes.at(-1), OFFLINE)
})

t.test('exactly one timer, armed for the earliest deadline', async (t) => {
  const { clock, store } = setup()
  const start = clock.now()
  store.heartbeat('a')
  t.same(clock.armed, [start + TTL])
  clock.advance(10_000)
  store.heartbeat('b')
  t.same(clock.armed, [start + TTL], 'b expires later: the timer stays on a')
  clock.advance(10_000)
  store.heartbeat('a')
  t.same(clock.armed, [start + 10_000 + TTL], 'a moved past b: the timer follows b')
  store.stop('b')
  t.same(clock.armed, [start + 20_000 + TTL])
})

t.test('a new live period after going offline gets a new since', async (t) => {
  const { clock, store } = setup()
  store.heartbeat('a')
  const first = store.snapshot.state.since
  clock.advance(TTL)
  clock.advance(5_000)
  store.heartbeat('a')
  t.not(store.snapshot.state.since, first)
  t.equal(store.snapshot.state.since, new Date(clock.now()).toISOString())
})

t.test('a late heartbeat after a missed deadline starts a new live period in one change', async (t) => {
  const clock = new FakeClock()
  // A timer that never fires stands for one that fires late.
  const store = new LiveState({ ttlMs: TTL, clock: { now: () => clock.now(), setTimer: () => ({ cancel () {} }) } })
  const changes: PublicState[] = []
  store.onChange(({ state }) => changes.push(state))
  store.heartbeat('a')
  clock.advance(TTL + 1)
  store.heartbeat('a')
  t.equal(changes.length, 2)
  t.same(changes[1], { active: true, since: new Date(clock.now()).toISOString(), sessions: 1 })
})

t.test('a heartbeat without an id uses the default session', async (t) => {
  const { store } = setup()
  store.heartbeat()
  store.heartbeat()
  t.equal(store.snapshot.state.sessions, 1)
  store.heartbeat('a')
  store.stop(DEFAULT_SESSION)
  t.same(store.snapshot.state.sessions, 1)
})

t.test('an unsubscribed listener hears nothing more', async (t) => {
  const { store } = setup()
  const heard: PublicState[] = []
  const unsubscribe = store.onChange(({ state }) => heard.push(state))
  store.heartbeat('a')
  unsubscribe()
  store.stop()
  t.equal(heard.length, 1)
})

t.test('close disarms the timer and drops listeners', async (t) => {
  const { clock, store, changes } = setup()
  store.heartbeat('a')
  store.close()
  t.same(clock.armed, [])
  store.stop()
  t.equal(changes.length, 1)
})

t.test('rejects a ttl that is not positive', async (t) => {
  t.throws(() => new LiveState({ ttlMs: 0 }), RangeError)
  t.throws(() => new LiveState({ ttlMs: Number.NaN }), RangeError)
})

t.test('runs on the system clock by default', async (t) => {
  const store = new LiveState({ ttlMs: 20 })
  t.teardown(() => store.close())
  const offline = new Promise<PublicState>((resolve) => store.onChange(({ state }) => { if (!state.active) resolve(state) }))
  const startedAt = Date.now()
  store.heartbeat('a')
  t.same(await offline, OFFLINE)
  t.ok(Date.now() - startedAt >= 20, 'not before the deadline')
})

t.test('every mutation reaches sessions listeners, even a heartbeat that only moves a deadline', async (t) => {
  const { clock, store, changes } = setup()
  let mutations = 0
  const unsubscribe = store.onSessionsChange(() => { mutations++ })
  store.heartbeat('a')
  clock.advance(1000)
  store.heartbeat('a')
  t.equal(changes.length, 1, 'one public change')
  t.equal(mutations, 2, 'two mutations')
  clock.advance(TTL)
  t.equal(mutations, 3, 'the expiry is a mutation too')
  unsubscribe()
  store.heartbeat('b')
  t.equal(mutations, 3)
})

t.test('toRecord holds the start of the live period and each deadline', async (t) => {
  const { clock, store } = setup()
  t.same(store.toRecord(), { sinceMs: null, expiries: [] })
  const start = clock.now()
  store.heartbeat('a')
  clock.advance(5000)
  store.heartbeat('b')
  t.same(store.toRecord(), { sinceMs: start, expiries: [['a', start + TTL], ['b', start + 5000 + TTL]] })
})

t.test('restore brings back live sessions, their since and their deadlines', async (t) => {
  const { clock, store, changes } = setup()
  const since = clock.now() - 30_000
  const snapshot = store.restore({ sinceMs: since, expiries: [['a', clock.now() + 10_000], ['b', clock.now() + 20_000]] })
  const expected = { active: true, since: new Date(since).toISOString(), sessions: 2 }
  t.same(snapshot.state, expected)
  t.same(changes, [expected], 'viewers hear about it')
  t.same(clock.armed, [clock.now() + 10_000], 'one timer, for the earliest deadline')
  clock.advance(20_000)
  t.same(changes.at(-1), OFFLINE, 'and they expire as if never restarted')
})

t.test('restore drops sessions that expired while the service was down', async (t) => {
  const { clock, store, changes } = setup()
  const snapshot = store.restore({ sinceMs: clock.now() - 90_000, expiries: [['a', clock.now()], ['b', clock.now() - 1]] })
  t.same(snapshot.state, OFFLINE)
  t.equal(changes.length, 0, 'still offline: nothing to tell')
  t.same(clock.armed, [])
})

t.test('restore keeps one live session of two', async (t) => {
  const { clock, store } = setup()
  const since = clock.now() - 50_000
  store.restore({ sinceMs: since, expiries: [['gone', clock.now() - 5], ['here', clock.now() + 5]] })
  t.same(store.toRecord(), { sinceMs: since, expiries: [['here', clock.now() + 5]] })
})

t.test('restore lets no session outlive ttl from now, nor start in the future', async (t) => {
  const { clock, store } = setup()
  store.restore({ sinceMs: clock.now() + 1000, expiries: [['forever', clock.now() + 365 * 86_400_000]] })
  t.same(store.toRecord(), { sinceMs: clock.now(), expiries: [['forever', clock.now() + TTL]] })
})

t.test('restore replaces the sessions there were', async (t) => {
  const { clock, store } = setup()
  store.heartbeat('old')
  store.restore({ sinceMs: null, expiries: [] })
  t.same(store.snapshot.state, OFFLINE)
  t.same(clock.armed, [])
})

t.test('a restored record round-trips through another store', async (t) => {
  const { clock, store } = setup()
  store.heartbeat('a')
  clock.advance(2000)
  store.heartbeat('b')
  const other = new LiveState({ ttlMs: TTL, clock })
  t.same(other.restore(store.toRecord()), store.snapshot)
  t.same(other.toRecord(), store.toRecord())
})
