import type { Activity, SessionStatus } from '../live/public-state.ts'
import type { IsoDate } from './owner-calendar.ts'

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
  /**
   * Where in the shared log of session events the events counted so far end (the replicas' Redis
   * stream), so that the next recorder reads on from there; null for a history told its events
   * directly, or never fed from a log.
   */
  readonly position: string | null
}

/** One write: everything counted since the last one, applied all together or not at all. */
export interface HistoryBatch {
  readonly recordedUntilMs: number
  /** See RecordedHistory; a store whose history is told its events directly need not keep it. */
  readonly position: string | null
  /** Added to what each day already holds. */
  readonly days: readonly DayTimes[]
  /** Replace the stored stretch with the same key, in this order. */
  readonly stretches: readonly Stretch[]
  /** Days before this date and stretches that ended before this time are dropped. */
  readonly prune?: { readonly beforeDate: IsoDate, readonly endedBeforeMs: number }
}

/**
 * Where the history is kept. Asynchronous, so a store on another server can stand behind it (Redis,
 * src/history/redis-store.ts); the embedded SQLite store answers at once.
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

/** Stored rows with what had been counted when they were stored, read together, and the time of the read. */
export interface HistorySnapshot<Rows> {
  readonly recorded: RecordedHistory
  readonly rows: Rows
  /** Epoch ms when it was read, on the clock the history is counted on. */
  readonly nowMs: number
}

/**
 * A store read by processes that do not record (replicas on Redis): each read is one consistent
 * snapshot, so the open stretches it counts on from `recordedUntilMs` are those of the same write.
 */
export interface HistorySnapshots {
  daysSnapshot (from: IsoDate, to: IsoDate): Promise<HistorySnapshot<DayTimes[]>>
  stretchesSnapshot (limit: number): Promise<HistorySnapshot<Stretch[]>>
}
