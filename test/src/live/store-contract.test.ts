import t, { type Test } from 'tap'
import { ACTIVITY_FIELDS, type Snapshot } from '../../../src/live/public-state.ts'
import type { Heartbeat, SessionEvent } from '../../../src/live/store.ts'
import { embeddedStore, redisStores, type StoreFactory, type StoreHarness, type StoreOptions } from '../../helpers/live-stores.ts'
import { redisMissing, startRedisServer } from '../../helpers/redis-server.ts'
import { IS_OFFLINE, OFFLINE } from '../../helpers/states.ts'

// One suite, two stores: what the process store does, the store shared by replicas through Redis
// does too, step for step, with the same seq. The domain rules are one class (src/live/sessions.ts);
// this holds the two ways of running them together.

const TTL = 60_000
const DEFAULTS: StoreOptions = { ttlMs: TTL, maxSessions: 64, publicFields: new Set(ACTIVITY_FIELDS) }

function contract (t: Test, makeStore: StoreFactory): void {
  async function setup (t: Test, options: Partial<StoreOptions> = {}) {
    const h: StoreHarness = await makeStore(t, { ...DEFAULTS, ...options })
    const iso = (offsetMs = 0) => new Date(h.clock.wallNow() + offsetMs).toISOString()
    /** A heartbeat that must be accepted, once its change (if any) has been told. */
    const beat = async (heartbeat: Heartbeat): Promise<Snapshot> => {
      const { snapshot } = await h.store.heartbeat(heartbeat)
      if (snapshot === undefined) throw new Error('heartbeat refused')
      await h.settled()
      return snapshot
    }
    const stop = async (sessionId?: string): Promise<Snapshot> => {
      const snapshot = await h.store.stop(sessionId)
      await h.settled()
      return snapshot
    }
    return { ...h, iso, beat, stop }
  }

  t.test('starts offline, at seq 0, never seen', async (t) => {
    const { store } = await setup(t)
    t.same(store.snapshot.state, OFFLINE)
    t.ok(store.available)
  })

  t.test('the first heartbeat goes live, once, and answers the state it made', async (t) => {
    const { store, changes, iso, beat } = await setup(t)
    const snapshot = await beat({ sessionId: 'a' })
    const expected = { seq: 1, active: true, status: 'live', since: iso(), sessions: 1, lastSeen: null, activity: [{ status: 'live', since: iso() }] }
    t.same(snapshot.state, expected)
    t.same(JSON.parse(snapshot.json), expected, 'the wire form is the same state')
    t.same(changes, [expected], 'told once')
    t.same(store.snapshot.state, expected, 'what a viewer joining now gets')
  })

  t.test('a heartbeat that changes nothing public publishes nothing, and moves the deadline', async (t) => {
    const { changes, beat, advance } = await setup(t)
    await beat({ sessionId: 'a', status: 'working' })
    await advance(30_000)
    t.equal((await beat({ sessionId: 'a' })).state.seq, 1)
    t.equal((await beat({ sessionId: 'a', status: 'working' })).state.seq, 1)
    await advance(TTL - 1)
    t.equal(changes.length, 1, 'still live just before the extended deadline')
    await advance(1)
    t.match(changes, [{ seq: 1 }, { ...IS_OFFLINE, seq: 2 }], 'offline exactly ttl after the last heartbeat, told once')
  })

  t.test('statuses: each change is published with its seq; the top-level status is the first of working, waiting, live, idle', async (t) => {
    const { store, changes, stop, beat } = await setup(t)
    const steps: Array<[Heartbeat, string]> = [
      [{ sessionId: 'a', status: 'idle' }, 'idle'],
      [{ sessionId: 'b' }, 'live'],
      [{ sessionId: 'c', status: 'waiting' }, 'waiting'],
      [{ sessionId: 'a', status: 'working' }, 'working'],
      [{ sessionId: 'a', status: 'idle' }, 'waiting'],
      [{ sessionId: 'c', status: 'idle' }, 'live']
    ]
    for (const [heartbeat, status] of steps) {
      await beat(heartbeat)
      t.equal(store.snapshot.state.status, status, JSON.stringify(heartbeat))
    }
    await stop('b')
    t.equal(store.snapshot.state.status, 'idle')
    await stop()
    t.equal(store.snapshot.state.status, 'offline')
    t.same(changes.map(({ seq }) => seq), [1, 2, 3, 4, 5, 6, 7, 8], 'one seq per published change, in order')
  })

  t.test('activity: most recently changed first, only the public fields, kept until replaced', async (t) => {
    const { store, changes, iso, beat, advance } = await setup(t, { publicFields: new Set(['model', 'tool']) })
    await beat({ sessionId: 'a', status: 'idle' })
    await advance(1000)
    await beat({ sessionId: 'b', status: 'working', activity: { model: 'Opus 4.5', project: 'secret', tool: 'editing' } })
    await advance(1000)
    await beat({ sessionId: 'a' })
    t.same(store.snapshot.state.activity, [
      { status: 'working', since: iso(-1000), model: 'Opus 4.5', tool: 'editing' },
      { status: 'idle', since: iso(-2000) }
    ], 'a heartbeat that changes nothing keeps the order; the project is not shared')
    const published = changes.length
    await beat({ sessionId: 'b', activity: { model: 'Opus 4.5', project: 'other', tool: 'editing' } })
    t.equal(changes.length, published, 'a change in an unshared field publishes nothing')
    await beat({ sessionId: 'a', status: 'waiting' })
    await beat({ sessionId: 'b', activity: { tool: 'reading' } })
    t.same(store.snapshot.state.activity, [
      { status: 'working', since: iso(-1000), tool: 'reading' },
      { status: 'waiting', since: iso() }
    ], 'a new activity replaces the old and moves the session to the front')
  })

  t.test('stop one, then all: the live period keeps its since, then ends with lastSeen; unknown stops publish nothing', async (t) => {
    const { changes, iso, beat, stop, advance } = await setup(t)
    await stop('nobody')
    await stop()
    t.same(changes, [], 'nothing to stop')
    await beat({ sessionId: 'a' })
    const since = iso()
    await advance(1000)
    await beat({ sessionId: 'b' })
    t.match((await stop('a')).state, { active: true, since, sessions: 1, lastSeen: null })
    await stop('nobody')
    await advance(5000)
    t.same((await stop()).state, { ...IS_OFFLINE, seq: 4, lastSeen: iso() })
    t.equal(changes.length, 4)
    await advance(1000)
    await beat({ sessionId: 'a' })
    t.equal(changes.at(-1)?.lastSeen, iso(-1000), 'lastSeen stays through the next live period')
  })

  t.test('expiry of one of two sessions, then of the last, each at its own deadline', async (t) => {
    const { changes, iso, beat, advance } = await setup(t)
    await beat({ sessionId: 'a' })
    await advance(20_000)
    await beat({ sessionId: 'b' })
    await advance(TTL - 20_000)
    t.match(changes.at(-1), { seq: 3, active: true, sessions: 1 })
    await advance(20_000)
    t.same(changes.at(-1), { ...IS_OFFLINE, seq: 4, lastSeen: iso() })
    t.equal(changes.length, 4)
  })

  t.test('sessions are capped: one more is refused until the earliest expires or one stops; known ones go on', async (t) => {
    const { store, changes, beat, stop, advance, settled } = await setup(t, { maxSessions: 2 })
    await beat({ sessionId: 'a' })
    await advance(10_000)
    await beat({ sessionId: 'b' })
    await advance(5000)
    t.same(await store.heartbeat({ sessionId: 'c', status: 'working' }), { retryAfterMs: TTL - 15_000 })
    await store.heartbeat({ sessionId: 'a', status: 'working' })
    t.same(await store.heartbeat({ sessionId: 'c' }), { retryAfterMs: TTL - 5000 }, 'now b is the earliest')
    await stop('b')
    t.ok((await store.heartbeat({ sessionId: 'c' })).snapshot, 'a stop makes room')
    await settled()
    t.same(changes.map(({ sessions }) => sessions), [1, 2, 2, 1, 2])
  })

  t.test('session events: each start, change and end once, with its time', async (t) => {
    const { store, clock, beat, stop, advance } = await setup(t, { publicFields: new Set(['tool']) })
    const events: SessionEvent[] = []
    store.onSessionEvent((event) => events.push(event))
    const wall = clock.wallNow()
    await beat({ sessionId: 'a', status: 'working', activity: { project: 'secret', tool: 'editing' } })
    await advance(1000)
    await beat({ sessionId: 'a', status: 'working', activity: { project: 'other', tool: 'editing' } })
    await beat({ sessionId: 'a', status: 'waiting' })
    await beat({ sessionId: 'b' })
    await advance(1000)
    await stop('a')
    await stop('a')
    await advance(TTL)
    t.same(events, [
      { type: 'start', sessionId: 'a', atMs: wall, status: 'working', activity: { tool: 'editing' } },
      { type: 'change', sessionId: 'a', atMs: wall + 1000, status: 'waiting', activity: { tool: 'editing' } },
      { type: 'start', sessionId: 'b', atMs: wall + 1000, status: 'live', activity: {} },
      { type: 'end', sessionId: 'a', atMs: wall + 2000, reason: 'stop' },
      { type: 'end', sessionId: 'b', atMs: wall + 1000 + TTL, reason: 'expiry' }
    ])
  })
}

t.test('the process store', async (t) => contract(t, embeddedStore))

t.test('the store shared through Redis', { skip: redisMissing }, async (t) => {
  const redis = await startRedisServer(t)
  contract(t, redisStores(redis.url))
})
