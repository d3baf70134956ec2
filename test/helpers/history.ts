import { OwnerCalendar, type IsoDate } from '../../src/history/owner-calendar.ts'
import { HistoryRecorder, type HistoryRecorderOptions } from '../../src/history/recorder.ts'
import { SqliteHistoryStore } from '../../src/history/sqlite-store.ts'
import type { HistoryStore } from '../../src/history/store.ts'
import type { Activity, SessionStatus } from '../../src/live/public-state.ts'
import type { SessionEvent } from '../../src/live/store.ts'
import { FakeClock } from './fake-clock.ts'

export const HOUR = 3_600_000
export const MINUTE = 60_000

export interface RecorderSetup {
  zone?: string
  /** ISO time the fake wall clock starts at. */
  start?: string
  store?: HistoryStore
  clock?: FakeClock
  options?: Partial<HistoryRecorderOptions>
}

/** A settled recorder on a fake clock over an in-memory database (or the store given). */
export async function recorderSetup ({ zone = 'UTC', start = '2026-01-01T00:00:00Z', store, clock, options = {} }: RecorderSetup = {}) {
  const time = clock ?? new FakeClock(Date.parse(start))
  const history = store ?? new SqliteHistoryStore(':memory:')
  const flushMs = options.flushMs ?? 1000
  const recorder = await HistoryRecorder.open({ store: history, calendar: new OwnerCalendar(zone), retentionDays: 400, clock: time, ...options })
  recorder.settle()
  /**
   * Moves the fake clock to an ISO time, firing the timers due on the way, a write period at a
   * time with the writes' promises settled in between, as they would be in real time.
   */
  const to = async (iso: string): Promise<void> => {
    const target = Date.parse(iso)
    if (target < time.wallNow()) throw new Error(`${iso} is in the past`)
    while (time.wallNow() < target) {
      time.advance(Math.min(flushMs, target - time.wallNow()))
      await settled()
    }
  }
  return {
    clock: time,
    store: history,
    recorder,
    to,
    /** Lets `ms` pass as `to` does. */
    pass: (ms: number) => to(new Date(time.wallNow() + ms).toISOString()),
    /** Tells the recorder an event happening now. */
    tell (type: 'start' | 'change' | 'end', sessionId: string, status: SessionStatus = 'live', activity: Activity = {}): void {
      recorder.record(sessionEvent(type, sessionId, time.wallNow(), status, activity))
    }
  }
}

/**
 * The history one process would record from `events` (in their order, each at its `atMs`): the
 * recorder's clock stands at each event in turn, and it writes once, when it closes at the last.
 */
export async function historyOf (events: readonly SessionEvent[], zone = 'UTC'): Promise<SqliteHistoryStore> {
  let wallMs = events[0]?.atMs ?? 0
  const clock = { now: () => wallMs, wallNow: () => wallMs, setTimer: () => ({ cancel () {} }) }
  const store = new SqliteHistoryStore(':memory:')
  const recorder = await HistoryRecorder.open({ store, calendar: new OwnerCalendar(zone), retentionDays: 400, clock })
  recorder.settle()
  for (const event of events) {
    wallMs = Math.max(wallMs, event.atMs)
    recorder.record(event)
  }
  await recorder.close()
  return store
}

/** The store with some of its methods replaced, the others passed through. */
export function wrapStore (store: HistoryStore, replaced: Partial<HistoryStore>): HistoryStore {
  return {
    load: () => store.load(),
    write: (batch) => store.write(batch),
    days: (from, to) => store.days(from, to),
    stretches: (limit) => store.stretches(limit),
    close: () => store.close(),
    ...replaced
  }
}

/** Lets every promise that can settle now do so (a write to an in-memory database, say). */
export function settled (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function sessionEvent (type: 'start' | 'change' | 'end', sessionId: string, atMs: number, status: SessionStatus = 'live', activity: Activity = {}): SessionEvent {
  return type === 'end' ? { type, sessionId, atMs, reason: 'stop' } : { type, sessionId, atMs, status, activity }
}

/** The days from..to as `date → [active, working, waiting]` in hours, for readable expectations. */
export async function hoursByDay (source: Pick<HistoryStore, 'days'>, from: IsoDate, to: IsoDate): Promise<Record<IsoDate, [number, number, number]>> {
  const hours: Record<IsoDate, [number, number, number]> = {}
  for (const { date, activeMs, workingMs, waitingMs } of await source.days(from, to)) {
    hours[date] = [activeMs / HOUR, workingMs / HOUR, waitingMs / HOUR]
  }
  return hours
}
