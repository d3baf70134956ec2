import t, { type Test } from 'tap'
import { HistoryReader } from '../../../src/history/reader.ts'
import { HistoryRecorder } from '../../../src/history/recorder.ts'
import type { Stretch } from '../../../src/history/store.ts'
import { LiveState } from '../../../src/live/state.ts'
import type { Heartbeat } from '../../../src/live/store.ts'
import { OwnerCalendar } from '../../../src/history/owner-calendar.ts'
import { ACTIVITY_FIELDS, SESSION_STATUSES } from '../../../src/live/public-state.ts'
import { RedisHistoryRecording } from '../../../src/history/redis-recording.ts'
import { historyKeys, RedisHistoryStore } from '../../../src/history/redis-store.ts'
import { RedisLiveStore } from '../../../src/live/redis-store.ts'
import { SqliteHistoryStore } from '../../../src/history/sqlite-store.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'
import { HOUR, MINUTE } from '../../helpers/history.ts'
import { freshPrefix, redisConnection } from '../../helpers/live-stores.ts'
import { redisMissing, startRedisServer } from '../../helpers/redis-server.ts'
import { seededRandom } from '../../../bench/synthetic-history.ts'

// The history shared by replicas, recorded by one of them at a time from the log of every step's
// events, on a fake clock that stands for every replica's and the Redis server's: it must be the
// history one process records from the same changes, to the millisecond, whoever records.

const TTL = 60_000
const LIVE = { ttlMs: TTL, maxSessions: 64, publicFields: new Set(ACTIVITY_FIELDS) }
const ZONE = 'Europe/Berlin'
// 23:40 in Berlin: the run crosses the owner's midnight.
const START = Date.parse('2026-01-15T22:40:00Z')
// Writes once a minute: how often a write happens changes nothing counted, and the fake clock stops at each.
const FLUSH_MS = 60_000
// Long enough that the lease never runs out on the server's real clock while the fake one stands still.
const LEASE_MS = 60_000
const SETTINGS = { calendar: new OwnerCalendar(ZONE), retentionDays: 400, leaseMs: LEASE_MS, flushMs: FLUSH_MS }

/** Stretches as both stores hold them, without their keys (each recorder makes its own), in one order. */
const comparable = (stretches: Stretch[]) => stretches
  .map(({ sessionId, startMs, endMs, status, activity, ms }) => JSON.stringify([sessionId, startMs, endMs, status, activity, ms.working, ms.waiting, ms.idle, ms.live]))
  .sort()

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  const server = await startRedisServer(t)
  const calendar = new OwnerCalendar(ZONE)

  /** One process with the embedded history, as the single-replica default runs it. */
  async function embedded (t: Test) {
    const clock = new FakeClock(START)
    const live = new LiveState({ ...LIVE, clock })
    const store = new SqliteHistoryStore(':memory:')
    const recorder = await HistoryRecorder.open({ store, calendar, retentionDays: 400, clock, flushMs: FLUSH_MS })
    live.onSessionEvent((event) => recorder.record(event))
    recorder.settle()
    t.teardown(() => store.close())
    return { clock, live, store, recorder }
  }

  interface Replica {
    store: RedisLiveStore
    recording: RedisHistoryRecording
  }

  /** Replicas sharing one state and one history under `prefix`, all on `clock`. */
  function replicas (t: Test, clock: FakeClock, prefix: string) {
    const all: Replica[] = []
    const reconciled: number[] = []
    /** Which replica began or stopped recording, in order: `+1` for the second one joined beginning. */
    const terms: string[] = []
    const sharedClock = () => clock.wallNow()
    const join = async ({ logSessionEvents = true } = {}): Promise<Replica> => {
      const index = all.length
      const redis = await redisConnection(t, server.url)
      const store = new RedisLiveStore({ ...LIVE, redis, prefix, clock, sharedClock, logSessionEvents })
      t.teardown(() => store.close())
      await store.open()
      const recording = new RedisHistoryRecording({
        ...SETTINGS,
        redis,
        prefix,
        clock,
        sharedClock,
        onReconciled: (count) => reconciled.push(count),
        onRecording: (recording) => terms.push(`${recording ? '+' : '-'}${index}`)
      })
      t.teardown(() => recording.close())
      const replica = { store, recording }
      all.push(replica)
      return replica
    }
    const settled = async () => {
      for (const { store } of all) await store.settled()
      for (const { recording } of all) await recording.settled()
    }
    const reader = async () => new HistoryReader({ store: new RedisHistoryStore({ redis: await redisConnection(t, server.url), prefix, sharedClock }), calendar, retentionDays: 400, clock })
    return { all, join, settled, reconciled, terms, reader, recorder: () => all.filter(({ recording }) => recording.recording) }
  }

  t.test('changes through random replicas, recorded by whichever holds the lease, handed over, taken away, joined: the history one process records', async (t) => {
    const one = await embedded(t)
    const clock = new FakeClock(START)
    const prefix = freshPrefix()
    const shared = replicas(t, clock, prefix)
    for (let index = 0; index < 3; index++) (await shared.join()).recording.start()
    await shared.settled()
    t.equal(shared.recorder().length, 1, 'one replica records')

    /** Lets `ms` pass on both, stopping at every timer due so that what it sets off is done before time moves on. */
    const pass = async (ms: number) => {
      const target = clock.now() + ms
      while (clock.now() < target) {
        const step = Math.min(target, ...clock.armed.filter((at) => at > clock.now())) - clock.now()
        one.clock.advance(step)
        clock.advance(step)
        await shared.settled()
      }
    }
    const next = seededRandom(14)
    const pick = <Item>(items: readonly Item[]): Item => items[Math.floor(next() * items.length)] as Item
    const through = () => pick(shared.all).store
    const handovers: string[] = []
    for (let step = 0; step < 400; step++) {
      if (step === 120) {
        const [holder] = shared.recorder()
        await holder?.recording.close()
        handovers.push('the recorder shut down and gave the lease back')
      }
      if (step === 240) {
        const redis = await redisConnection(t, server.url)
        await redis.del(historyKeys(prefix).lease)
        handovers.push('the lease taken away from the recorder')
      }
      if (step === 300) {
        (await shared.join()).recording.start()
        handovers.push('a replica joined')
      }
      const roll = next()
      const sessionId = pick(['a', 'b', 'c', 'd'])
      if (roll < 0.45) {
        const heartbeat: Heartbeat = { sessionId, status: pick(SESSION_STATUSES), ...(next() < 0.5 && { activity: { project: pick(['blog', 'cc-live']) } }) }
        await one.live.heartbeat(heartbeat)
        await through().heartbeat(heartbeat)
      } else if (roll < 0.6) {
        await one.live.heartbeat({ sessionId })
        await through().heartbeat({ sessionId })
      } else if (roll < 0.68) {
        await one.live.stop(sessionId)
        await through().stop(sessionId)
      } else if (roll < 0.7) {
        await one.live.stop()
        await through().stop()
      } else {
        await shared.settled()
        await pass(next() < 0.1 ? 10 * MINUTE + Math.floor(next() * 20 * MINUTE) : Math.floor(next() * 2 * MINUTE))
      }
      await shared.settled()
      t.ok(shared.recorder().length <= 1, 'never two recorders')
    }
    await pass(1000)
    t.equal(handovers.length, 3)
    t.match(shared.terms.join(' '), /^\+0 -0 \+\d -\d \+\d$/, `recorded by one replica, then another, then another: ${shared.terms.join(' ')}`)
    t.same(shared.reconciled, [], 'the log held every event: nothing to bring in line')
    t.ok(one.clock.wallNow() > Date.parse('2026-01-16T00:00:00Z') - HOUR, 'the run crossed the owner\'s midnight')

    for (const { recording } of shared.all) await recording.close()
    const from = '2026-01-15'
    const to = '2026-01-17'
    const stored = new RedisHistoryStore({ redis: await redisConnection(t, server.url), prefix })
    const days = await stored.days(from, to)
    const stretches = await stored.stretches(1000)
    t.equal(days.length, 2, 'days on both sides of midnight')
    t.ok(stretches.length > 20, `${stretches.length} sessions`)
    const reader = await shared.reader()
    t.same(await reader.days(from, to), await one.recorder.days(from, to), 'every replica reads the days one process does, counted on to now')
    t.same(comparable(await reader.stretches(1000)), comparable(await one.recorder.stretches(1000)), 'and the same sessions')

    await one.recorder.close()
    t.same(days, await one.store.days(from, to), 'the same days stored, to the millisecond')
    t.same(comparable(stretches), comparable(await one.store.stretches(1000)), 'the same sessions, each counted the same')
    t.same((await stored.load()).open.length, (await one.store.load()).open.length, 'the same left open')
  })

  /** Replicas on a fresh prefix and a fake clock, the clock moved a timer at a time with everything settled in between. */
  async function sharedOnly (t: Test) {
    const clock = new FakeClock(START)
    const prefix = freshPrefix()
    const shared = replicas(t, clock, prefix)
    const pass = async (ms: number) => {
      const target = clock.now() + ms
      while (clock.now() < target) {
        clock.advance(Math.min(target, ...clock.armed.filter((at) => at > clock.now())) - clock.now())
        await shared.settled()
      }
    }
    const stored = new RedisHistoryStore({ redis: await redisConnection(t, server.url), prefix })
    return { clock, prefix, shared, pass, stored }
  }

  t.test('sessions live before any recorder (the log never had them): their stretches start when they entered their status', async (t) => {
    const { shared, pass, stored } = await sharedOnly(t)
    const older = await shared.join({ logSessionEvents: false })
    await older.store.heartbeat({ sessionId: 'x', status: 'working' })
    await pass(50_000)
    older.recording.start()
    await shared.settled()
    t.same(shared.reconciled, [1], 'one session brought in')
    await pass(5000)
    await older.recording.close()
    t.match(await stored.load(), { open: [{ sessionId: 'x', startMs: START, ms: { working: 55_000 } }] })
    t.same(await stored.days('2026-01-15', '2026-01-16'), [{ date: '2026-01-15', activeMs: 55_000, workingMs: 55_000, waitingMs: 0 }])
  })

  t.test('a replica that does not log its events (an older version, mid-upgrade) ends a session: its stretch ends within a minute, not never', async (t) => {
    const { shared, pass, stored } = await sharedOnly(t)
    const current = await shared.join()
    const older = await shared.join({ logSessionEvents: false })
    current.recording.start()
    await shared.settled()
    await current.store.heartbeat({ sessionId: 'x', status: 'working' })
    await pass(30_000)
    await older.store.stop('x')
    await pass(20_000)
    t.same(shared.reconciled, [], 'not yet')
    await pass(LEASE_MS)
    t.same(shared.reconciled, [1], 'then brought in line once')
    await current.recording.close()
    t.match(await stored.stretches(1), [{ sessionId: null, startMs: START, endMs: START + 60_000, ms: { working: 60_000 } }], 'ended a minute after it began, half a minute after it did')
    t.same((await stored.load()).open, [], 'nothing left open')
  })

  t.test('a recorder whose lease another replica took writes nothing more and stops', async (t) => {
    const { shared, pass, stored, prefix } = await sharedOnly(t)
    const { store, recording } = await shared.join()
    recording.start()
    await store.heartbeat({ sessionId: 'x', status: 'working' })
    await pass(FLUSH_MS)
    const before = await stored.load()
    const redis = await redisConnection(t, server.url)
    await redis.set(historyKeys(prefix).lease, 'another replica')
    await store.heartbeat({ sessionId: 'x', status: 'waiting' })
    await shared.settled()
    // Its next write comes before its next claim of the lease: the store refuses it.
    await pass(FLUSH_MS)
    t.equal(recording.recording, false, 'stopped recording')
    t.same(shared.terms, ['+0', '-0'])
    t.same(await stored.load(), before, 'wrote nothing')
  })
}
