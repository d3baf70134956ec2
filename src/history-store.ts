import type { IsoDate } from './owner-calendar.js'
import type { Activity, SessionStatus } from './public-state.js'

/** Milliseconds a stretch spent in each status. */
export type StatusTimes = Record<SessionStatus, number>

/**
 * One live stretch of one session, from its start to its end. `sessionId` is kept only while it is
 * open (a restart needs it to continue the stretch) and is never shown; `status` is the one it is in
 * now, or ended in.
 */
export interface Stretch {
  /** Made by the recorder; unique across every process that shares the history. */
  readonly key: string
  readonly sessionId: string | null
  readonly startMs: number
  readonly endMs: number | null
  readonly status: SessionStatus
  /** Its public activity fields, as they last were. */
  readonly activity: Activity
  readonly ms: StatusTimes
}

/**
 * Milliseconds on one owner-local day: `active` while any session was live, `working` and `waiting`
 * while the public status said so (working wins over waiting, as it does for the dot).
 */
export interface DayTimes {
  readonly date: IsoDate
  readonly activeMs: number
  readonly workingMs: number
  readonly waitingMs: number
}

/** What a process left for the next: the stretches still open and up to when it had counted. */
export interface RecordedHistory {
  /** null: nothing was ever counted here. */
  readonly recordedUntilMs: number | null
  readonly open: readonly Stretch[]
}

/** One write: everything counted since the last one, applied all together or not at all. */
export interface HistoryBatch {
  readonly recordedUntilMs: number
  /** Added to what each day already holds. */
  readonly days: readonly DayTimes[]
  /** Replace the stored stretch with the same key, in this order. */
  readonly stretches: readonly Stretch[]
  /** Days before this date and stretches that ended before this time are dropped. */
  readonly prune?: { readonly beforeDate: IsoDate, readonly endedBeforeMs: number }
}

/**
 * Where the history is kept. Asynchronous, so a store on another server can stand behind it (the
 * Redis live store of issue 14); the embedded SQLite store answers at once.
 */
export interface HistoryStore {
  load (): Promise<RecordedHistory>
  write (batch: HistoryBatch): Promise<void>
  /** Days from `from` to `to` inclusive that hold anything, in date order. */
  days (from: IsoDate, to: IsoDate): Promise<DayTimes[]>
  /** The stretches that started most recently, newest first. */
  stretches (limit: number): Promise<Stretch[]>
  close (): Promise<void>
}
