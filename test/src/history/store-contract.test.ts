import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { historyKeys, HistoryLeaseLostError, RedisHistoryStore } from '../../../src/history/redis-store.ts'
import { SqliteHistoryStore } from '../../../src/history/sqlite-store.ts'
import type { HistoryBatch, HistoryStore, Stretch } from '../../../src/history/store.ts'
import { HOUR, MINUTE, hoursByDay, recorderSetup } from '../../helpers/history.ts'
import { freshPrefix, redisConnection } from '../../helpers/live-stores.ts'
import { redisMissing, startRedisServer } from '../../helpers/redis-server.ts'

// One suite, two stores: what the embedded SQLite history keeps, the history in Redis keeps too,
// batch for batch; the recorder is one, whichever it writes to.

type HistoryStoreFactory = (t: Test) => Promise<HistoryStore>

const START = Date.parse('2026-03-01T10:00:00Z')

function stretch (key: string, startMs: number, endMs: number | null, ms: Partial<Stretch['ms']> = {}, sessionId: string | null = endMs === null ? `session-${key}` : null): Stretch {
  return { key, sessionId, startMs, endMs, status: 'working', activity: { project: 'blog' }, ms: { working: 0, waiting: 0, idle: 0, live: 0, ...ms } }
}

function batch (recordedUntilMs: number, parts: Partial<HistoryBatch> = {}): HistoryBatch {
  return { recordedUntilMs, position: null, days: [], stretches: [], ...parts }
}

function contract (t: Test, makeStore: HistoryStoreFactory): void {
  t.test('an empty history: nothing recorded, nothing open', async (t) => {
    const store = await makeStore(t)
    t.same(await store.load(), { recordedUntilMs: null, open: [], position: null })
    t.same(await store.days('2026-01-01', '2026-12-31'), [])
    t.same(await store.stretches(10), [])
  })

  t.test('each batch adds to its days and replaces its stretches; the open ones are what a restart finds', async (t) => {
    const store = await makeStore(t)
    await store.write(batch(START + HOUR, {
      days: [{ date: '2026-03-01', activeMs: HOUR, workingMs: HOUR, waitingMs: 0 }],
      stretches: [stretch('a', START, null, { working: HOUR }), stretch('b', START + MINUTE, START + 2 * MINUTE, { working: MINUTE })]
    }))
    await store.write(batch(START + 2 * HOUR, {
      days: [{ date: '2026-03-01', activeMs: HOUR, workingMs: 0.5 * HOUR, waitingMs: 0.25 * HOUR }, { date: '2026-03-02', activeMs: 1, workingMs: 0, waitingMs: 0 }],
      stretches: [stretch('a', START, null, { working: 1.5 * HOUR, waiting: 0.5 * HOUR }), stretch('c', START + 3 * MINUTE, null)]
    }))
    t.same(await hoursByDay(store, '2026-03-01', '2026-03-02'), { '2026-03-01': [2, 1.5, 0.25], '2026-03-02': [1 / HOUR, 0, 0] })
    t.same(await store.days('2026-03-02', '2026-03-31'), [{ date: '2026-03-02', activeMs: 1, workingMs: 0, waitingMs: 0 }], 'only the days asked for')
    const loaded = await store.load()
    t.equal(loaded.recordedUntilMs, START + 2 * HOUR)
    t.same(loaded.open.map(({ key, sessionId }) => [key, sessionId]), [['a', 'session-a'], ['c', 'session-c']], 'open ones, in order of start, with their session')
    t.same(loaded.open[0]?.ms, { working: 1.5 * HOUR, waiting: 0.5 * HOUR, idle: 0, live: 0 }, 'as last written')
    t.same((await store.stretches(10)).map(({ key }) => key), ['c', 'b', 'a'], 'newest first')
    t.same((await store.stretches(2)).map(({ key }) => key), ['c', 'b'], 'at most the limit')
  })

  t.test('a stretch that ends is no longer open', async (t) => {
    const store = await makeStore(t)
    await store.write(batch(START + MINUTE, { stretches: [stretch('a', START, null, { working: MINUTE })] }))
    await store.write(batch(START + 2 * MINUTE, { stretches: [stretch('a', START, START + 2 * MINUTE, { working: 2 * MINUTE })] }))
    t.same((await store.load()).open, [])
    t.match(await store.stretches(1), [{ key: 'a', sessionId: null, endMs: START + 2 * MINUTE, ms: { working: 2 * MINUTE } }])
  })

  t.test('the clock\'s fractions of a millisecond are rounded, as the counters hold whole ones', async (t) => {
    const store = await makeStore(t)
    await store.write(batch(START + 0.6, {
      days: [{ date: '2026-03-01', activeMs: 1000.4, workingMs: 999.6, waitingMs: 0 }],
      stretches: [stretch('a', START + 0.4, null, { working: 1000.4 })]
    }))
    t.same(await store.days('2026-03-01', '2026-03-01'), [{ date: '2026-03-01', activeMs: 1000, workingMs: 1000, waitingMs: 0 }])
    t.match(await store.load(), { recordedUntilMs: START + 1, open: [{ startMs: START, ms: { working: 1000 } }] })
  })

  t.test('pruning drops the days before a date and the stretches that ended before a moment, never an open one', async (t) => {
    const store = await makeStore(t)
    const day = (date: string) => ({ date, activeMs: 1, workingMs: 0, waitingMs: 0 })
    await store.write(batch(START, {
      days: [day('2026-02-27'), day('2026-02-28'), day('2026-03-01')],
      stretches: [stretch('old', START - 3 * HOUR, START - 2 * HOUR), stretch('edge', START - 2 * HOUR, START - HOUR), stretch('open', START - 4 * HOUR, null)]
    }))
    await store.write(batch(START + 1, { prune: { beforeDate: '2026-02-28', endedBeforeMs: START - HOUR } }))
    t.same((await store.days('2026-01-01', '2026-12-31')).map(({ date }) => date), ['2026-02-28', '2026-03-01'])
    t.same((await store.stretches(10)).map(({ key }) => key).sort(), ['edge', 'open'])
  })

  t.test('the recorder writes the same history into it: sessions across midnight, two at once', async (t) => {
    const { recorder, to, tell, store } = await recorderSetup({ start: '2026-03-01T23:00:00Z', store: await makeStore(t) })
    tell('start', 'a', 'working', { project: 'blog' })
    await to('2026-03-01T23:30:00Z')
    tell('start', 'b', 'waiting')
    await to('2026-03-02T00:30:00Z')
    tell('change', 'a', 'idle', { project: 'blog' })
    await to('2026-03-02T01:00:00Z')
    tell('end', 'a')
    await to('2026-03-02T01:00:01Z')
    await recorder.close()
    t.same(await hoursByDay(store, '2026-03-01', '2026-03-02'), { '2026-03-01': [1, 1, 0], '2026-03-02': [1 + 1 / 3600, 0.5, 0.5 + 1 / 3600] })
    t.match(await store.stretches(10), [
      { sessionId: 'b', endMs: null, ms: { waiting: 1.5 * HOUR + 1000 } },
      { sessionId: null, endMs: Date.parse('2026-03-02T01:00:00Z'), activity: { project: 'blog' }, ms: { working: 1.5 * HOUR, idle: 0.5 * HOUR } }
    ])
  })
}

t.test('SQLite', async (t) => contract(t, async (t) => {
  const store = new SqliteHistoryStore(':memory:')
  t.teardown(() => store.close())
  return store
}))

if (redisMissing) {
  t.test('Redis', { skip: redisMissing }, async () => {})
} else {
  const server = await startRedisServer(t)

  /** A store on a fresh prefix whose writer holds the recorder's lease. */
  async function leasedStore (t: Test, prefix = freshPrefix()) {
    const redis = await redisConnection(t, server.url)
    const token = randomUUID()
    await redis.set(historyKeys(prefix).lease, token)
    return { redis, prefix, store: new RedisHistoryStore({ redis, prefix, leaseToken: token }) }
  }

  t.test('Redis', async (t) => contract(t, async (t) => (await leasedStore(t)).store))

  t.test('Redis: the log position is written with each batch', async (t) => {
    const { store } = await leasedStore(t)
    await store.write(batch(START, { position: '1700000000000-3' }))
    t.equal((await store.load()).position, '1700000000000-3')
  })

  t.test('Redis: a writer whose lease has gone writes nothing', async (t) => {
    const { redis, prefix, store } = await leasedStore(t)
    await store.write(batch(START, { days: [{ date: '2026-03-01', activeMs: 5, workingMs: 0, waitingMs: 0 }] }))
    for (const [what, take] of [
      ['taken by another', () => redis.set(historyKeys(prefix).lease, 'another')],
      ['expired', () => redis.del(historyKeys(prefix).lease)]
    ] as const) {
      await take()
      await t.rejects(store.write(batch(START + 1000, {
        days: [{ date: '2026-03-01', activeMs: 1000, workingMs: 0, waitingMs: 0 }],
        stretches: [stretch('a', START, null)]
      })), HistoryLeaseLostError, what)
      t.same(await store.load(), { recordedUntilMs: START, open: [], position: null }, `${what}: nothing of the batch`)
      t.same(await store.days('2026-03-01', '2026-03-01'), [{ date: '2026-03-01', activeMs: 5, workingMs: 0, waitingMs: 0 }])
    }
    await t.rejects(new RedisHistoryStore({ redis, prefix }).write(batch(START)), /only reads/, 'a store without a lease token only reads')
  })
}
