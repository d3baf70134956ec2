import type { Clock } from '../src/clock.ts'
import { OwnerCalendar } from '../src/history/owner-calendar.ts'
import { HistoryRecorder } from '../src/history/recorder.ts'
import { SqliteHistoryStore } from '../src/history/sqlite-store.ts'
import type { SessionStatus } from '../src/live/public-state.ts'
import type { SessionEvent } from '../src/live/store.ts'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const STATUSES: SessionStatus[] = ['working', 'working', 'waiting', 'idle']

/** A small deterministic generator (mulberry32), so every run makes the same history. */
export function seededRandom (seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

export interface SyntheticHistory {
  /** Days of history, ending yesterday. */
  days: number
  /** The moment the history ends; now by default. */
  endMs?: number
  timeZone?: string
  seed?: number
}

/**
 * Writes `days` of made-up but plausible history into the database at `file` through the real
 * recorder, on a fake clock: most weekdays and some weekends a working day of one to ten hours in
 * which a session starts every three to seven minutes, lives two to six, and changes status on the
 * way. Returns how many sessions it wrote. The recorder's clock stands at each event in turn and its
 * timer never fires, so the whole history is written in one batch when it closes.
 */
export async function writeSyntheticHistory (file: string, { days, endMs = Date.now(), timeZone = 'UTC', seed = 42 }: SyntheticHistory): Promise<number> {
  const next = seededRandom(seed)
  const calendar = new OwnerCalendar(timeZone)
  const today = calendar.dayAt(endMs)
  let wallMs = today.startMs - days * DAY
  const clock: Clock = { now: () => wallMs, wallNow: () => wallMs, setTimer: () => ({ cancel () {} }) }
  const store = new SqliteHistoryStore(file)
  const recorder = await HistoryRecorder.open({ store, calendar, retentionDays: days + 1, clock })
  recorder.settle()
  const events: SessionEvent[] = []
  for (let day = 0; day < days; day++) {
    const dayStart = today.startMs - (days - day) * DAY
    const weekend = new Date(dayStart + DAY / 2).getUTCDay() % 6 === 0
    if (next() > (weekend ? 0.4 : 0.85)) continue
    const endOfWork = dayStart + 9 * 60 * MINUTE + (1 + next() * 9) * 60 * MINUTE
    for (let start = dayStart + 9 * 60 * MINUTE; start < endOfWork; start += (3 + next() * 4) * MINUTE) {
      const sessionId = `s${events.length}`
      const status = () => STATUSES[Math.floor(next() * STATUSES.length)] as SessionStatus
      const end = start + (2 + next() * 4) * MINUTE
      events.push({ type: 'start', sessionId, atMs: start, status: status(), activity: { project: `project-${Math.floor(next() * 5)}` } })
      events.push({ type: 'change', sessionId, atMs: (start + end) / 2, status: status(), activity: { project: 'project-0' } })
      events.push({ type: 'end', sessionId, atMs: end, reason: 'stop' })
    }
  }
  events.sort((a, b) => a.atMs - b.atMs)
  for (const event of events) {
    wallMs = Math.round(event.atMs)
    recorder.record({ ...event, atMs: wallMs })
  }
  await recorder.close()
  await store.close()
  return events.length / 3
}
