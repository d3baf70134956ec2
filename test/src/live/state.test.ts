import t from 'tap'
import { ACTIVITY_FIELDS, type PublicState, type Snapshot } from '../../../src/live/public-state.ts'
import { DEFAULT_SESSION, type StoreRecord } from '../../../src/live/sessions.ts'
import { LiveState, type LiveStateOptions } from '../../../src/live/state.ts'
import type { Heartbeat, SessionEvent } from '../../../src/live/store.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'
import { IS_OFFLINE, OFFLINE } from '../../helpers/states.ts'

const TTL = 60_000

function setup (options: Partial<LiveStateOptions> = {}) {
  const clock = new FakeClock()
  const store = new LiveState({ ttlMs: TTL, maxSessions: 64, publicFields: new Set(ACTIVITY_FIELDS), clock, ...options })
  const changes: PublicState[] = []
  store.onChange(({ state }) => changes.push(state))
  const iso = (offsetMs = 0) => new Date(clock.wallNow() + offsetMs).toISOString()
  /** A heartbeat that must be accepted: its snapshot. */
  const beat = async (heartbeat: Heartbeat): Promise<Snapshot> => {
    const { snapshot } = await store.heartbeat(heartbeat)
    if (snapshot === undefined) throw new Error('heartbeat refused')
    return snapshot
  }
  return { clock, store, changes, iso, beat }
}

t.test('starts offline, at seq 0, never seen', async (t) => {
  const { store } = setup()
  t.same(store.snapshot.state, OFFLINE)
  t.equal(store.snapshot.json, JSON.stringify(OFFLINE))
})

t.test('the first heartbeat goes live and says since when; a session with no status is "live"', async (t) => {
  const { store, changes, iso, beat } = setup()
  const snapshot = await beat({ sessionId: 'a' })
  const expected = { seq: 1, active: true, status: 'live', since: iso(), sessions: 1, lastSeen: null, activity: [{ status: 'live', since: iso() }] }
  t.same(snapshot.state, expected)
  t.same(changes, [expected])
  t.same(JSON.parse(snapshot.json), expected, 'the wire form is the same state')
  t.equal(store.snapshot, snapshot)
})

t.test('a repeated heartbeat extends the deadline and publishes nothing', async (t) => {
  const { clock, store, changes, beat } = setup()
  await beat({ sessionId: 'a', status: 'working' })
  clock.advance(30_000)
  const before = store.snapshot
  t.equal(await beat({ sessionId: 'a' }), before, 'no status: keeps working, same snapshot object')
  t.equal(await beat({ sessionId: 'a', status: 'working' }), before, 'the same status again: nothing changed')
  clock.advance(59_999)
  t.equal(changes.length, 1, 'still live just before the extended deadline')
  clock.advance(1)
  t.match(changes.at(-1), IS_OFFLINE, 'offline exactly ttl after the last heartbeat')
  t.equal(changes.at(-1)?.seq, 2)
})

t.test('each status change is published with its own since; the live period keeps its since', async (t) => {
  const { clock, changes, iso, beat } = setup()
  await beat({ sessionId: 'a', status: 'idle' })
  const periodSince = iso()
  clock.advance(5000)
  await beat({ sessionId: 'a', status: 'working' })
  t.match(changes.at(-1), { seq: 2, status: 'working', since: periodSince, activity: [{ status: 'working', since: iso() }] })
  clock.advance(5000)
  await beat({ sessionId: 'a', status: 'waiting' })
  t.match(changes.at(-1), { seq: 3, status: 'waiting', since: periodSince, activity: [{ status: 'waiting', since: iso() }] })
  clock.advance(5000)
  await beat({ sessionId: 'a', status: 'idle' })
  t.match(changes.at(-1), { seq: 4, status: 'idle', activity: [{ status: 'idle', since: iso() }] })
  t.same(changes.map(({ seq }) => seq), [1, 2, 3, 4], 'seq goes up by one per published change')
})

t.test('the top-level status is the first of working, waiting, live, idle that any session has', async (t) => {
  const { store, beat } = setup()
  const cases: Array<[Heartbeat[], string]> = [
    [[{ sessionId: 'a', status: 'idle' }], 'idle'],
    [[{ sessionId: 'b' }], 'live'],
    [[{ sessionId: 'c', status: 'waiting' }], 'waiting'],
    [[{ sessionId: 'a', status: 'working' }], 'working'],
    [[{ sessionId: 'a', status: 'idle' }], 'waiting'],
    [[{ sessionId: 'c', status: 'idle' }], 'live']
  ]
  for (const [beats, status] of cases) {
    for (const heartbeat of beats) await beat(heartbeat)
    t.equal(store.snapshot.state.status, status, JSON.stringify(beats))
  }
  await store.stop('b')
  t.equal(store.snapshot.state.status, 'idle')
  await store.stop()
  t.equal(store.snapshot.state.status, 'offline')
})

t.test('activity: one entry per session, most recently changed first; a deadline alone is no change', async (t) => {
  const { clock, store, beat } = setup()
  await beat({ sessionId: 'a', status: 'idle' })
  clock.advance(1000)
  await beat({ sessionId: 'b', status: 'working', activity: { model: 'Opus 4.5', tool: 'editing' } })
  t.same(store.snapshot.state.activity.map(({ status }) => status), ['working', 'idle'])
  clock.advance(1000)
  await beat({ sessionId: 'a' })
  t.same(store.snapshot.state.activity.map(({ status }) => status), ['working', 'idle'], 'a heartbeat that changes nothing keeps the order')
  await beat({ sessionId: 'a', status: 'waiting' })
  t.same(store.snapshot.state.activity, [
    { status: 'waiting', since: new Date(clock.wallNow()).toISOString() },
    { status: 'working', since: new Date(clock.wallNow() - 1000).toISOString(), model: 'Opus 4.5', tool: 'editing' }
  ])
  await beat({ sessionId: 'b', activity: { model: 'Opus 4.5', tool: 'reading' } })
  t.equal(store.snapshot.state.activity[0]?.tool, 'reading', 'a new activity moves it to the front')
  t.equal(store.snapshot.state.activity[0]?.status, 'working', 'and keeps its status')
})

t.test('activity replaces the session\'s activity when given, and is kept when not', async (t) => {
  const { store, beat } = setup()
  await beat({ sessionId: 'a', activity: { model: 'Opus 4.5', project: 'blog', tool: 'editing' } })
  await beat({ sessionId: 'a', status: 'working' })
  t.match(store.snapshot.state.activity[0], { model: 'Opus 4.5', project: 'blog', tool: 'editing' })
  await beat({ sessionId: 'a', activity: { model: 'Opus 4.5' } })
  t.same(store.snapshot.state.activity[0], { status: 'working', since: store.snapshot.state.activity[0]?.since, model: 'Opus 4.5' })
})

t.test('only the public fields are kept, whatever the laptop sends', async (t) => {
  const sent = { model: 'Opus 4.5', project: 'blog', tool: 'editing' }
  for (const shared of [[], ['tool'], ['model', 'project']] as const) {
    const { store, beat } = setup({ publicFields: new Set(shared) })
    await beat({ sessionId: 'a', activity: sent })
    const { status, since, ...published } = store.snapshot.state.activity[0] ?? {}
    t.same(published, Object.fromEntries(shared.map((field) => [field, sent[field]])), `sharing ${shared.join(',') || 'nothing'}`)
    t.same(store.toRecord().sessions[0]?.activity, published, 'what is not shared is not even kept')
  }
})

t.test('a change in an unshared field publishes nothing', async (t) => {
  const { store, changes, beat } = setup({ publicFields: new Set(['tool']) })
  await beat({ sessionId: 'a', activity: { project: 'blog', tool: 'editing' } })
  await beat({ sessionId: 'a', activity: { project: 'secret', tool: 'editing' } })
  t.equal(changes.length, 1)
  t.same(store.snapshot.state.activity[0], { status: 'live', since: store.snapshot.state.since, tool: 'editing' })
})

t.test('a second session counts and keeps the live period', async (t) => {
  const { clock, store, changes, beat } = setup()
  await beat({ sessionId: 'a' })
  const since = store.snapshot.state.since
  clock.advance(10_000)
  await beat({ sessionId: 'b' })
  t.match(changes.at(-1), { active: true, since, sessions: 2 })
})

t.test('stopping one session leaves the other live; stopping all ends the period and sets lastSeen', async (t) => {
  const { clock, store, changes, iso, beat } = setup()
  await beat({ sessionId: 'a' })
  await beat({ sessionId: 'b' })
  const since = store.snapshot.state.since
  t.match((await store.stop('a')).state, { active: true, since, sessions: 1, lastSeen: null })
  clock.advance(5000)
  t.same((await store.stop()).state, { ...IS_OFFLINE, seq: 4, lastSeen: iso() })
  t.equal(changes.length, 4)
})

t.test('stopping an unknown session or stopping while offline publishes nothing', async (t) => {
  const { store, changes, beat } = setup()
  await store.stop('nobody')
  await store.stop()
  t.equal(changes.length, 0)
  await beat({ sessionId: 'a' })
  await store.stop('nobody')
  t.equal(changes.length, 1)
})

t.test('expiry of one of two sessions, then of the last: lastSeen is the moment the last expired', async (t) => {
  const { clock, changes, iso, beat } = setup()
  await beat({ sessionId: 'a' })
  clock.advance(20_000)
  await beat({ sessionId: 'b' })
  clock.advance(TTL - 20_000)
  t.match(changes.at(-1), { active: true, sessions: 1 }, 'a expired at its own deadline')
  clock.advance(20_000)
  t.same(changes.at(-1), { ...IS_OFFLINE, seq: 4, lastSeen: iso() }, 'b at its own')
  t.same(clock.armed, [], 'no timer left')
})

t.test('lastSeen stays through the next live period and is replaced when it ends', async (t) => {
  const { clock, store, iso, beat } = setup()
  await beat({ sessionId: 'a' })
  await store.stop()
  const firstSeen = iso()
  clock.advance(1000)
  await beat({ sessionId: 'a' })
  t.equal(store.snapshot.state.lastSeen, firstSeen, 'still the last time it went offline')
  clock.advance(1000)
  await store.stop('a')
  t.equal(store.snapshot.state.lastSeen, iso())
})

t.test('exactly one timer, for the earliest deadline', async (t) => {
  const { clock, beat } = setup()
  await beat({ sessionId: 'a' })
  clock.advance(10_000)
  await beat({ sessionId: 'b' })
  t.same(clock.armed, [TTL])
  await beat({ sessionId: 'a' })
  t.same(clock.armed, [TTL + 10_000], 'a moved past b: b is now the earliest')
})

t.test('the default session is the one without an id', async (t) => {
  const { store, beat } = setup()
  await beat({})
  t.same(store.toRecord().sessions.map(({ id }) => id), [DEFAULT_SESSION])
})

t.test('sessions are capped: a new one beyond the cap is refused until the earliest expires; known ones go on', async (t) => {
  const { clock, store, changes, beat } = setup({ maxSessions: 2 })
  await beat({ sessionId: 'a' })
  clock.advance(10_000)
  await beat({ sessionId: 'b' })
  clock.advance(5000)
  const published = changes.length
  t.same(await store.heartbeat({ sessionId: 'c', status: 'working' }), { retryAfterMs: TTL - 15_000 }, 'retry when a expires')
  t.equal(changes.length, published, 'nothing changed')
  t.equal(store.snapshot.state.sessions, 2)
  t.ok((await store.heartbeat({ sessionId: 'a', status: 'working' })).snapshot, 'an existing session still beats')
  t.same(await store.heartbeat({ sessionId: 'c' }), { retryAfterMs: TTL - 5000 }, 'now b is the earliest')
  await store.stop('b')
  t.ok((await store.heartbeat({ sessionId: 'c' })).snapshot, 'a stop makes room')
})

t.test('a backward step of the wall clock neither extends a session nor moves its deadline', async (t) => {
  const { clock, store, changes, beat } = setup({ maxSessions: 1 })
  await beat({ sessionId: 'a' })
  clock.stepWall(-3_600_000)
  await beat({ sessionId: 'a' })
  clock.advance(TTL)
  t.match(changes.at(-1), IS_OFFLINE, 'offline ttl after the last heartbeat, an hour of wall clock notwithstanding')
  await beat({ sessionId: 'a' })
  clock.stepWall(-3_600_000)
  t.same(await store.heartbeat({ sessionId: 'b' }), { retryAfterMs: TTL }, 'Retry-After does not grow by the step')
  clock.stepWall(7_200_000)
  t.same(await store.heartbeat({ sessionId: 'b' }), { retryAfterMs: TTL }, 'nor shrink by a forward one')
})

t.test('the record keeps the seq, the period, lastSeen and each session with its wall-clock deadline', async (t) => {
  const { clock, store, beat } = setup()
  await beat({ sessionId: 'a', status: 'working', activity: { tool: 'editing' } })
  await store.stop('a')
  clock.advance(1000)
  await beat({ sessionId: 'b', status: 'idle' })
  clock.advance(1000)
  const record = store.toRecord()
  const wall = clock.wallNow()
  t.same(record, {
    seq: 3,
    sinceMs: wall - 1000,
    lastSeenMs: wall - 2000,
    sessions: [{ id: 'b', expiresAtMs: wall - 1000 + TTL, status: 'idle', statusSinceMs: wall - 1000, activity: {} }]
  })
})

t.test('restore: live sessions come back with their status, activity order, since and seq', async (t) => {
  const { clock, store, beat } = setup()
  await beat({ sessionId: 'a', status: 'working', activity: { model: 'Opus 4.5' } })
  clock.advance(1000)
  await beat({ sessionId: 'b', status: 'idle' })
  const before = store.snapshot
  const record = store.toRecord()

  // The next process, started at the same wall-clock moment: its monotonic clock has its own origin.
  const next = setup()
  next.clock.advance(1000)
  const restored = next.store.restore(record)
  t.same(restored.state, before.state, 'the same public state, with the same seq: nothing changed')
  t.equal(restored.json, before.json)
  t.same(next.clock.armed, [TTL], 'a expires when it would have')
})

t.test('restore: expired sessions are dropped and the owner was last seen when the last expired', async (t) => {
  const { clock, store, beat } = setup()
  await beat({ sessionId: 'a' })
  const record = store.toRecord()
  const next = setup()
  next.clock.stepWall(clock.wallNow() - next.clock.wallNow() + TTL + 5000)
  const restored = next.store.restore(record)
  t.match(restored.state, IS_OFFLINE)
  t.equal(restored.state.lastSeen, new Date(clock.wallNow() + TTL).toISOString())
  t.equal(restored.state.seq, record.seq + 1, 'a change since the save: the next seq')
})

t.test('restore: a deadline far ahead or a since in the future is held to now', async (t) => {
  const { clock, store } = setup()
  const wall = clock.wallNow()
  const record: StoreRecord = {
    seq: 7,
    sinceMs: wall + 3_600_000,
    lastSeenMs: wall - 1000,
    sessions: [{ id: 'a', expiresAtMs: wall + 365 * 86_400_000, status: 'working', statusSinceMs: wall + 60_000, activity: {} }]
  }
  const { state } = store.restore(record)
  t.equal(state.since, new Date(wall).toISOString())
  t.equal(state.activity[0]?.since, new Date(wall).toISOString())
  t.same(clock.armed, [TTL], 'at most ttl from now')
  t.equal(state.seq, 8)
})

t.test('restore: activity fields no longer shared are dropped', async (t) => {
  const { clock, store } = setup({ publicFields: new Set(['tool']) })
  const wall = clock.wallNow()
  const { state } = store.restore({
    seq: 1,
    sinceMs: wall,
    lastSeenMs: null,
    sessions: [{ id: 'a', expiresAtMs: wall + 1000, status: 'live', statusSinceMs: wall, activity: { project: 'secret', tool: 'editing' } }]
  })
  t.same(state.activity, [{ status: 'live', since: new Date(wall).toISOString(), tool: 'editing' }])
})

t.test('a snapshot is serialized once per change', async (t) => {
  const { store, beat } = setup()
  const stringify = t.capture(JSON, 'stringify', JSON.stringify)
  await beat({ sessionId: 'a', status: 'working' })
  await beat({ sessionId: 'a', status: 'working' })
  t.equal(stringify().length, 2, 'one serialization per heartbeat, to compare; the published one is not made again')
  t.equal(store.snapshot.json, JSON.stringify(store.snapshot.state))
})

t.test('close cancels the timer and drops listeners', async (t) => {
  const { clock, store, changes, beat } = setup()
  await beat({ sessionId: 'a' })
  store.close()
  t.same(clock.armed, [])
  clock.advance(TTL)
  t.equal(changes.length, 1)
})

t.test('a ttl that is not positive is refused', async (t) => {
  t.throws(() => setup({ ttlMs: 0 }), RangeError)
  t.throws(() => setup({ ttlMs: Number.NaN }), RangeError)
})

t.test('session events: each start, change and end, once, with its wall-clock time; a heartbeat that changes nothing tells nothing', async (t) => {
  const { clock, store, beat } = setup({ publicFields: new Set(['tool']) })
  const events: SessionEvent[] = []
  store.onSessionEvent((event) => events.push(event))
  const wall = clock.wallNow()
  await beat({ sessionId: 'a', status: 'working', activity: { project: 'secret', tool: 'editing' } })
  clock.advance(1000)
  await beat({ sessionId: 'a', status: 'working', activity: { project: 'other', tool: 'editing' } })
  await beat({ sessionId: 'a', status: 'waiting' })
  await beat({ sessionId: 'b' })
  clock.advance(1000)
  await store.stop('a')
  await store.stop('a')
  clock.advance(TTL)
  await beat({ sessionId: 'c' })
  clock.advance(5000)
  await store.stop()
  t.same(events, [
    { type: 'start', sessionId: 'a', atMs: wall, status: 'working', activity: { tool: 'editing' } },
    { type: 'change', sessionId: 'a', atMs: wall + 1000, status: 'waiting', activity: { tool: 'editing' } },
    { type: 'start', sessionId: 'b', atMs: wall + 1000, status: 'live', activity: {} },
    { type: 'end', sessionId: 'a', atMs: wall + 2000, reason: 'stop' },
    { type: 'end', sessionId: 'b', atMs: wall + 1000 + TTL, reason: 'expiry' },
    { type: 'start', sessionId: 'c', atMs: wall + 2000 + TTL, status: 'live', activity: {} },
    { type: 'end', sessionId: 'c', atMs: wall + 7000 + TTL, reason: 'stop' }
  ])
})

t.test('session events: a session found expired by a later heartbeat ended at its deadline', async (t) => {
  const { clock, store, beat } = setup()
  const events: SessionEvent[] = []
  await beat({ sessionId: 'a' })
  store.close() // no timer: the expiry is only found by the next mutation
  store.onSessionEvent((event) => events.push(event))
  clock.advance(TTL + 30_000)
  await beat({ sessionId: 'b' })
  t.same(events.slice(0, 1), [{ type: 'end', sessionId: 'a', atMs: clock.wallNow() - 30_000, reason: 'expiry' }])
})

t.test('session events on restore: live sessions resume, those that expired while down end at their deadline', async (t) => {
  const { clock, store } = setup()
  const wall = clock.wallNow()
  const events: SessionEvent[] = []
  store.onSessionEvent((event) => events.push(event))
  store.restore({
    seq: 4,
    sinceMs: wall - 50_000,
    lastSeenMs: null,
    sessions: [
      { id: 'gone', expiresAtMs: wall - 10_000, status: 'idle', statusSinceMs: wall - 50_000, activity: {} },
      { id: 'on', expiresAtMs: wall + 10_000, status: 'working', statusSinceMs: wall - 20_000, activity: { tool: 'reading' } }
    ]
  })
  t.same(events, [
    { type: 'end', sessionId: 'gone', atMs: wall - 10_000, reason: 'expiry' },
    { type: 'resume', sessionId: 'on', atMs: wall, status: 'working', statusSinceMs: wall - 20_000, activity: { tool: 'reading' } }
  ])
})
