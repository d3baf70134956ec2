import { join } from 'node:path'
import t from 'tap'
import { OwnerCalendar } from '../../../src/history/owner-calendar.ts'
import { HistoryRecorder } from '../../../src/history/recorder.ts'
import { SqliteHistoryStore } from '../../../src/history/sqlite-store.ts'
import { ACTIVITY_FIELDS, type SessionStatus } from '../../../src/live/public-state.ts'
import type { StoreRecord } from '../../../src/live/sessions.ts'
import { LiveState } from '../../../src/live/state.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'
import { MINUTE, hoursByDay, settled } from '../../helpers/history.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

const TTL = 60_000
const DAY = '2026-06-01'

/**
 * One run of the service as far as the history is concerned: the live store on a fake clock
 * starting at `start`, restored from `record` (a state file) if given, and the recorder on the
 * database file, wired as the plugins wire them.
 */
async function run (file: string, start: string, record?: StoreRecord) {
  const clock = new FakeClock(Date.parse(`${DAY}T${start}Z`))
  const live = new LiveState({ ttlMs: TTL, maxSessions: 64, publicFields: new Set(ACTIVITY_FIELDS), clock })
  const store = new SqliteHistoryStore(file)
  const recorder = await HistoryRecorder.open({ store, calendar: new OwnerCalendar('UTC'), retentionDays: 400, clock })
  live.onSessionEvent((event) => recorder.record(event))
  if (record !== undefined) live.restore(record)
  recorder.settle()
  /** To a time of the day, the session heartbeating every 30 s as the laptop's loop does. */
  const to = async (time: string) => {
    const target = Date.parse(`${DAY}T${time}Z`)
    while (clock.wallNow() < target) {
      clock.advance(Math.min(1000, target - clock.wallNow()))
      if (live.snapshot.state.active && clock.wallNow() % 30_000 === 0) await live.heartbeat({ sessionId: 'a' })
      await settled()
    }
  }
  const beat = (status: SessionStatus) => live.heartbeat({ sessionId: 'a', status })
  /** SIGKILL: nothing more is written; what the state file would hold is handed back. */
  const crash = async () => {
    const saved = live.toRecord()
    await store.close()
    return saved
  }
  const stop = async () => {
    await live.stop()
    await recorder.close()
    await store.close()
  }
  return { clock, recorder, to, beat, crash, stop }
}

async function history (file: string) {
  const store = new SqliteHistoryStore(file)
  try {
    return { days: await hoursByDay(store, DAY, DAY), stretches: await store.stretches(10) }
  } finally {
    await store.close()
  }
}

t.test('a restart in the middle of a stretch: the stretch goes on, the time across the restart counted once', async (t) => {
  const file = join(await tempDir(t), 'history.db')
  const first = await run(file, '10:00:00')
  await first.beat('working')
  await first.to('10:20:00')
  await first.beat('waiting')
  await first.to('10:30:00.600')
  const saved = await first.crash()

  const second = await run(file, '10:30:20', saved)
  await second.to('11:00:00')
  await second.stop()

  const { days, stretches } = await history(file)
  t.same(days, { [DAY]: [1, 20 / 60, 40 / 60] }, 'one hour, twenty minutes working, forty waiting')
  t.equal(stretches.length, 1, 'one stretch, not two')
  t.match(stretches[0], {
    startMs: Date.parse(`${DAY}T10:00:00Z`),
    endMs: Date.parse(`${DAY}T11:00:00Z`),
    ms: { working: 20 * MINUTE, waiting: 40 * MINUTE, idle: 0, live: 0 }
  })
})

t.test('a status change the database had not heard before the crash is placed when it happened', async (t) => {
  const file = join(await tempDir(t), 'history.db')
  const first = await run(file, '10:00:00')
  await first.beat('working')
  await first.to('10:20:00.300')
  await first.beat('waiting')
  await first.to('10:20:00.600') // written last at 10:20:00, still working
  const saved = await first.crash()

  const second = await run(file, '10:20:10', saved)
  await second.to('10:30:00')
  await second.stop()
  const { stretches: [stretch] } = await history(file)
  t.same(stretch?.ms, { working: 20 * MINUTE + 300, waiting: 10 * MINUTE - 300, idle: 0, live: 0 })
})

t.test('a session that started within the last second before the crash is counted from its start', async (t) => {
  const file = join(await tempDir(t), 'history.db')
  const first = await run(file, '09:59:59.800')
  await first.to('10:00:00')
  await first.beat('working')
  await first.to('10:00:00.500') // never written: the next write was due at 10:00:00.800
  const saved = await first.crash()
  t.same((await history(file)).stretches, [], 'the database never heard of it')

  const second = await run(file, '10:00:05', saved)
  await second.to('10:10:00')
  await second.stop()
  const { days, stretches } = await history(file)
  t.same(days, { [DAY]: [10 / 60, 10 / 60, 0] })
  t.match(stretches, [{ startMs: Date.parse(`${DAY}T10:00:00Z`), ms: { working: 10 * MINUTE } }])
})

t.test('without a state file, a stretch the crash interrupted ends where the database last counted', async (t) => {
  const file = join(await tempDir(t), 'history.db')
  const first = await run(file, '10:00:00')
  await first.beat('working')
  await first.to('10:30:00.600')
  await first.crash()

  const second = await run(file, '10:45:00')
  await second.stop()
  const { days, stretches } = await history(file)
  t.same(days, { [DAY]: [0.5, 0.5, 0] }, 'half an hour: the last 0.6 s before the crash lost, nothing of the down time counted')
  t.match(stretches, [{ endMs: Date.parse(`${DAY}T10:30:00Z`), sessionId: null }])
})

t.test('a session that expired while no process ran ends at its deadline', async (t) => {
  const file = join(await tempDir(t), 'history.db')
  const first = await run(file, '10:00:00')
  await first.beat('working')
  await first.to('10:30:00.600') // last heartbeat at 10:30:00, so live until 10:31:00
  const saved = await first.crash()

  const second = await run(file, '10:35:00', saved)
  await second.stop()
  const { days, stretches } = await history(file)
  t.same(days, { [DAY]: [31 / 60, 31 / 60, 0] })
  t.match(stretches, [{ endMs: Date.parse(`${DAY}T10:31:00Z`) }])
})

t.test('a clean shutdown leaves the stretch open for the next process, counted to the moment it stopped', async (t) => {
  const file = join(await tempDir(t), 'history.db')
  const first = await run(file, '10:00:00')
  await first.beat('idle')
  await first.to('10:10:00.500')
  const saved = first.clock.wallNow()
  await first.recorder.close()
  const record = await first.crash()
  t.match((await history(file)).stretches, [{ endMs: null, ms: { idle: 10 * MINUTE + 500 } }])
  t.ok(saved > 0)

  const second = await run(file, '10:10:02', record)
  await second.to('10:20:00')
  await second.stop()
  t.same((await history(file)).days, { [DAY]: [20 / 60, 0, 0] })
})
