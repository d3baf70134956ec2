import t from 'tap'
import { SqliteHistoryStore } from '../../../src/history/sqlite-store.ts'
import type { HistoryBatch } from '../../../src/history/store.ts'
import { HOUR, MINUTE, hoursByDay, recorderSetup, wrapStore } from '../../helpers/history.ts'

// Long spans are written once a minute here; how often a write happens changes nothing counted.
const SLOW = { flushMs: 60_000 }

t.test('UTC: a stretch across midnight is split at midnight', async (t) => {
  const { recorder, to, tell } = await recorderSetup({ start: '2026-01-01T22:30:00Z', options: SLOW })
  tell('start', 'a', 'working')
  await to('2026-01-02T01:30:00Z')
  tell('end', 'a')
  t.same(await hoursByDay(recorder, '2026-01-01', '2026-01-02'), { '2026-01-01': [1.5, 1.5, 0], '2026-01-02': [1.5, 1.5, 0] })
})

t.test('Europe/Berlin: the spring-forward day has 23 hours, the fall-back day 25', async (t) => {
  await t.test('across the night clocks go forward (2026-03-29, 02:00 CET becomes 03:00 CEST)', async (t) => {
    // 22:00 on the 28th (CET, +01:00) to 04:00 on the 29th (CEST, +02:00): five real hours, two before midnight.
    const { recorder, to, tell } = await recorderSetup({ zone: 'Europe/Berlin', start: '2026-03-28T21:00:00Z', options: SLOW })
    tell('start', 'a')
    await to('2026-03-29T02:00:00Z')
    tell('end', 'a')
    t.same(await hoursByDay(recorder, '2026-03-28', '2026-03-29'), { '2026-03-28': [2, 0, 0], '2026-03-29': [3, 0, 0] })
  })
  await t.test('across the night clocks go back (2026-10-25, 03:00 CEST becomes 02:00 CET)', async (t) => {
    // 22:00 on the 24th (CEST) to 04:00 on the 25th (CET): seven real hours, five of them on the 25th.
    const { recorder, to, tell } = await recorderSetup({ zone: 'Europe/Berlin', start: '2026-10-24T20:00:00Z', options: SLOW })
    tell('start', 'a', 'waiting')
    await to('2026-10-25T03:00:00Z')
    tell('end', 'a')
    t.same(await hoursByDay(recorder, '2026-10-24', '2026-10-25'), { '2026-10-24': [2, 0, 2], '2026-10-25': [5, 0, 5] })
  })
  await t.test('live from the day before to the day after: each day is as long as it was', async (t) => {
    const { recorder, to, tell } = await recorderSetup({ zone: 'Europe/Berlin', start: '2026-03-28T12:00:00Z', options: SLOW })
    tell('start', 'a')
    await to('2026-03-30T12:00:00Z')
    tell('end', 'a')
    await to('2026-10-24T12:00:00Z')
    tell('start', 'b')
    await to('2026-10-26T12:00:00Z')
    tell('end', 'b')
    const days = await hoursByDay(recorder, '2026-03-29', '2026-10-25')
    t.same([days['2026-03-29']?.[0], days['2026-10-25']?.[0]], [23, 25])
  })
})

t.test('Pacific/Auckland: midnight is at 11:00 UTC in summer, and its fall-back day has 25 hours', async (t) => {
  const { recorder, to, tell } = await recorderSetup({ zone: 'Pacific/Auckland', start: '2026-01-10T10:30:00Z', options: SLOW })
  tell('start', 'a', 'working') // 23:30 on the 10th, NZDT (+13:00)
  await to('2026-01-10T12:00:00Z') // 01:00 on the 11th
  tell('end', 'a')
  await to('2026-04-04T11:00:00Z') // midnight starting the 5th, NZDT; at 03:00 NZDT clocks go back to 02:00 NZST (+12:00)
  tell('start', 'b')
  await to('2026-04-05T12:00:00Z') // midnight starting the 6th, NZST
  tell('end', 'b')
  t.same(await hoursByDay(recorder, '2026-01-10', '2026-04-06'), { '2026-01-10': [0.5, 0.5, 0], '2026-01-11': [1, 1, 0], '2026-04-05': [25, 0, 0] })
})

t.test('active is the union of the sessions, working and waiting what the public status said', async (t) => {
  const { recorder, to, tell } = await recorderSetup({ start: '2026-05-04T10:00:00Z' })
  tell('start', 'a', 'working')
  await to('2026-05-04T10:30:00Z')
  tell('start', 'b', 'waiting') // a works, b waits: the dot says working
  await to('2026-05-04T11:00:00Z')
  tell('change', 'a', 'idle') // a idle, b waits: the dot says waiting
  await to('2026-05-04T11:30:00Z')
  tell('end', 'a')
  tell('change', 'b', 'idle')
  await to('2026-05-04T12:00:00Z')
  tell('end', 'b')
  await to('2026-05-04T13:00:00Z')
  t.same(await hoursByDay(recorder, '2026-05-04', '2026-05-04'), { '2026-05-04': [2, 1, 0.5] }, 'two hours live, not three')
  const [b, a] = await recorder.stretches(10)
  t.same(a?.ms, { working: HOUR, waiting: 0, idle: 0.5 * HOUR, live: 0 }, "a's own times")
  t.same(b?.ms, { working: 0, waiting: HOUR, idle: 0.5 * HOUR, live: 0 }, "b's own times, though the dot said working for half of its waiting")
  t.same([a?.startMs, a?.endMs, b?.endMs], [Date.parse('2026-05-04T10:00:00Z'), Date.parse('2026-05-04T11:30:00Z'), Date.parse('2026-05-04T12:00:00Z')])
  t.same([a?.sessionId, b?.sessionId], [null, null], 'an ended stretch keeps no session id')
})

t.test('a stretch keeps its latest public activity', async (t) => {
  const { recorder, to, tell } = await recorderSetup()
  tell('start', 'a', 'working', { model: 'Opus', project: 'blog' })
  await to('2026-01-01T00:10:00Z')
  tell('change', 'a', 'working', { model: 'Opus', project: 'blog', tool: 'editing' })
  const [stretch] = await recorder.stretches(1)
  t.same(stretch?.activity, { model: 'Opus', project: 'blog', tool: 'editing' })
  t.equal(stretch?.endMs, null, 'open while live')
  t.equal(stretch?.ms.working, 10 * MINUTE, 'counted up to the moment it is read')
})

t.test('what is counted is written at most a second later, in one batch, and nothing while offline', async (t) => {
  const writes: HistoryBatch[] = []
  const store = new SqliteHistoryStore(':memory:')
  const spy = wrapStore(store, { write: async (batch) => { writes.push(batch); await store.write(batch) } })
  const { recorder, clock, pass, tell } = await recorderSetup({ store: spy })
  await pass(1000)
  t.equal(writes.length, 1, 'one write at start: what the last process left, pruned')
  tell('start', 'a', 'working')
  for (let i = 0; i < 9; i++) {
    await pass(100)
    tell('change', 'a', i % 2 === 0 ? 'waiting' : 'working')
  }
  t.equal(writes.length, 1, 'nine changes within a second: nothing written yet')
  t.same(await hoursByDay(store, '2026-01-01', '2026-01-01'), {}, 'nothing on disk yet')
  t.same(await hoursByDay(recorder, '2026-01-01', '2026-01-01'), { '2026-01-01': [900 / HOUR, 500 / HOUR, 400 / HOUR] }, 'but the reads see it')
  await pass(100)
  t.equal(writes.length, 2, 'one write for the lot')
  t.same(await hoursByDay(store, '2026-01-01', '2026-01-01'), { '2026-01-01': [1000 / HOUR, 500 / HOUR, 500 / HOUR] })
  t.equal(writes[1]?.stretches.length, 1, 'the stretch once, as it last was')
  await pass(5000)
  t.equal(writes.length, 7, 'while live, the count is written every second')
  tell('end', 'a')
  await pass(1000)
  const count = writes.length
  await pass(60_000)
  t.equal(writes.length, count, 'offline: nothing to write, no timer')
  t.same(clock.armed, [])
  await recorder.close()
})

t.test('a write that fails loses nothing: the next one carries it; one report when it fails, one when it works again', async (t) => {
  const store = new SqliteHistoryStore(':memory:')
  let failing = true
  const problems: Array<string | null> = []
  const flaky = wrapStore(store, {
    write: async (batch) => {
      if (failing) throw new Error('disk full')
      await store.write(batch)
    }
  })
  const { recorder, pass, tell } = await recorderSetup({ store: flaky, options: { onWriteProblem: (error) => problems.push(error?.message ?? null) } })
  tell('start', 'a', 'working')
  await pass(10_000)
  t.same(problems, ['disk full'], 'ten failed writes, one report')
  t.same(await hoursByDay(recorder, '2026-01-01', '2026-01-01'), { '2026-01-01': [10 / 3600, 10 / 3600, 0] }, 'reads still see everything')
  failing = false
  await pass(1000)
  t.same(problems, ['disk full', null])
  t.same(await hoursByDay(store, '2026-01-01', '2026-01-01'), { '2026-01-01': [11 / 3600, 11 / 3600, 0] }, 'all of it on disk, once')
  const [stretch] = await store.stretches(1)
  t.equal(stretch?.ms.working, 11_000)
  await recorder.close()
})

t.test('the wall clock stepping back holds the count until it is past where it was', async (t) => {
  const { recorder, clock, pass, tell } = await recorderSetup({ start: '2026-01-01T10:00:00Z' })
  tell('start', 'a', 'working')
  await pass(10 * MINUTE)
  clock.stepWall(-5 * MINUTE)
  await pass(10 * MINUTE)
  tell('end', 'a')
  t.same(await hoursByDay(recorder, '2026-01-01', '2026-01-01'), { '2026-01-01': [15 / 60, 15 / 60, 0] }, '20 minutes passed, the clock says 15: nothing counted twice')
  await recorder.close()
})

t.test('retention: days and stretches older than CC_LIVE_HISTORY_DAYS are dropped once a day', async (t) => {
  const { recorder, store, to, tell } = await recorderSetup({ start: '2026-01-01T10:00:00Z', options: { retentionDays: 3, ...SLOW } })
  for (const day of ['01', '02', '03', '04']) {
    await to(`2026-01-${day}T10:00:00Z`)
    tell('start', 'a')
    await to(`2026-01-${day}T11:00:00Z`)
    tell('end', 'a')
  }
  await to('2026-01-04T11:02:00Z')
  t.same(Object.keys(await hoursByDay(store, '2025-12-01', '2026-02-01')), ['2026-01-02', '2026-01-03', '2026-01-04'], 'three days kept, today included')
  t.equal((await store.stretches(10)).length, 3, 'and their stretches')
  await recorder.close()
})

t.test('a session already open is not counted twice when it is said to start again', async (t) => {
  const { recorder, to, tell } = await recorderSetup()
  tell('start', 'a')
  await to('2026-01-01T01:00:00Z')
  tell('start', 'a')
  await to('2026-01-01T02:00:00Z')
  tell('end', 'a')
  t.same(await hoursByDay(recorder, '2026-01-01', '2026-01-01'), { '2026-01-01': [2, 0, 0] })
  t.same((await recorder.stretches(10)).map(({ ms }) => ms.live), [HOUR, HOUR], 'the first ended where the second began')
})

t.test('a store slower than the writes: the next write waits its turn, and closing writes everything', async (t) => {
  const store = new SqliteHistoryStore(':memory:')
  const slow = wrapStore(store, {
    write: async (batch) => {
      // Longer than several write periods, as a store on another server can be.
      await new Promise((resolve) => setTimeout(resolve, 20))
      await store.write(batch)
    }
  })
  const { recorder, pass, tell } = await recorderSetup({ store: slow })
  tell('start', 'a', 'working')
  await pass(5000)
  tell('end', 'a')
  await recorder.close()
  t.same(await hoursByDay(store, '2026-01-01', '2026-01-01'), { '2026-01-01': [5 / 3600, 5 / 3600, 0] }, 'all five seconds, once')
  t.match(await store.stretches(1), [{ endMs: Date.parse('2026-01-01T00:00:05Z'), ms: { working: 5000 } }])
})
