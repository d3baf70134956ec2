import { randomUUID } from 'node:crypto'
import type { Clock, Timer } from '../clock.ts'
import type { DayTimes, HistoryBatch, HistoryStore, RecordedHistory, StatusTimes, Stretch } from './store.ts'
import type { HistoryReads } from './report.ts'
import { copyStretch, countLive, newestStretches, withDeltas, type DayDelta } from './tally.ts'
import type { SessionEvent } from '../live/store.ts'
import { addDays, type IsoDate, type OwnerCalendar } from './owner-calendar.ts'
import { sameActivity, type Activity, type SessionStatus } from '../live/public-state.ts'

export interface HistoryRecorderOptions {
  store: HistoryStore
  calendar: OwnerCalendar
  /** Days kept, today included. */
  retentionDays: number
  clock: Clock
  /** Longest time between writes: what a crash can lose. */
  flushMs?: number
  /** A write failed (with its error), or writes work again after failing (null). */
  onWriteProblem?: (error: Error | null) => void
}

/** A session live in the shared state, as the recorder is brought in line with it. */
export interface LiveSession {
  readonly sessionId: string
  readonly status: SessionStatus
  readonly statusSinceMs: number
  readonly activity: Activity
}

/** A stretch being counted: its times grow until it ends. */
interface LiveStretch {
  readonly key: string
  sessionId: string | null
  readonly startMs: number
  endMs: number | null
  status: SessionStatus
  activity: Activity
  readonly ms: StatusTimes
}

/** What a write in progress holds, so that reads still see it and a failed write loses nothing. */
interface Written {
  days: Map<IsoDate, DayDelta>
  stretches: Map<string, LiveStretch>
  copies: Stretch[]
}

const FLUSH_MS = 1000

/**
 * Turns session events into the owner's history: a stretch per session from its start to its end,
 * with the time it spent in each status, and per owner-local day the time any session was live
 * (active) and the time the public status was working or waiting. Everything is counted in memory
 * as it happens and written in one batch at most every `flushMs` (never on the way of an event), so
 * a crash loses at most that much.
 *
 * Time is the wall clock of the events, as `since` and `lastSeen` are: a count never runs backwards,
 * so a step of the system clock back holds the count until the clock is past it again.
 *
 * After a restart, the events that bring the live state back (`resume`, and `end` for sessions that
 * expired while no process ran) are held until `settle()`, then applied from the moment the last
 * process had counted to: a resumed session's stretch goes on (the time it was live across the
 * restart counted once); a stretch whose session did not come back ends at that moment.
 */
export class HistoryRecorder implements HistoryReads {
  readonly #store: HistoryStore
  readonly #calendar: OwnerCalendar
  readonly #retentionDays: number
  readonly #clock: Clock
  readonly #flushMs: number
  readonly #onWriteProblem: (error: Error | null) => void
  /** Open stretches by session id. */
  readonly #open = new Map<string, LiveStretch>()
  /** Stretches changed since the last write, by key, in the order they changed. */
  #dirty = new Map<string, LiveStretch>()
  /** Milliseconds counted since the last write, per day. */
  #days = new Map<IsoDate, DayDelta>()
  #written: Written | null = null
  #writing: Promise<void> = Promise.resolve()
  /** Everything before this moment is counted; null until anything is. */
  #countedUntilMs: number | null
  /** Where the events recorded so far end in the log they were read from; null: told directly. */
  #position: string | null
  /** Events held until settle(); null once settled. */
  #held: SessionEvent[] | null = []
  #prunedOn: IsoDate | null = null
  #timer: Timer | null = null
  #failing = false
  #closed = false

  private constructor (options: HistoryRecorderOptions, { recordedUntilMs, open, position }: RecordedHistory) {
    this.#store = options.store
    this.#calendar = options.calendar
    this.#retentionDays = options.retentionDays
    this.#clock = options.clock
    this.#flushMs = options.flushMs ?? FLUSH_MS
    this.#onWriteProblem = options.onWriteProblem ?? (() => {})
    this.#countedUntilMs = recordedUntilMs
    this.#position = position
    for (const stretch of open) {
      if (stretch.sessionId !== null) this.#open.set(stretch.sessionId, copyStretch(stretch))
    }
  }

  /** A recorder that goes on from what the store holds; call settle() once the live state is restored. */
  static async open (options: HistoryRecorderOptions): Promise<HistoryRecorder> {
    return new HistoryRecorder(options, await options.store.load())
  }

  /**
   * A recorder that goes on exactly where the last one stopped writing, for events read on from
   * `position` in the log it was fed from (a recorder taking over on Redis): nothing is held,
   * and the open stretches go on counting.
   */
  static async follow (options: HistoryRecorderOptions): Promise<HistoryRecorder> {
    const recorder = await HistoryRecorder.open(options)
    // Counting begins with the first events read on, so that none of the log behind is overtaken.
    recorder.#held = null
    return recorder
  }

  /** Where the events recorded so far end in the log they were read from; null when told directly. */
  get position (): string | null {
    return this.#position
  }

  get timezone (): string {
    return this.#calendar.timeZone
  }

  /** The owner's date now. */
  get today (): IsoDate {
    return this.#calendar.dateAt(this.#clock.wallNow())
  }

  get retentionDays (): number {
    return this.#retentionDays
  }

  /** The listener for the live store's session events. */
  record (event: SessionEvent): void {
    if (this.#closed) return
    if (this.#held !== null) {
      this.#held.push(event)
      return
    }
    this.#apply(event, Math.max(event.atMs, this.#countedUntilMs ?? -Infinity))
    this.#arm()
  }

  /**
   * Events read from a shared log, in its order, which reach up to `position` in it (with none, the
   * log holds nothing new up to there). The position is written with the counts they lead to.
   */
  recordFromLog (events: readonly SessionEvent[], position: string): void {
    if (this.#closed) return
    for (const event of events) this.record(event)
    this.#position = position
    this.#arm()
  }

  /**
   * Brings the open stretches in line with the sessions in the live state at `position` in the log,
   * once everything before it has been recorded: for events the log lost or never had (a replica
   * of a version that did not log them). A stretch whose session is gone ends at `atMs`; a session
   * without a stretch starts one from when it entered its status; a stretch whose status or
   * activity differ takes the session's. Returns how many were out of line.
   */
  reconcile (sessions: readonly LiveSession[], atMs: number, position: string): number {
    if (this.#closed) return 0
    const live = new Map(sessions.map((session) => [session.sessionId, session]))
    const events: SessionEvent[] = []
    for (const sessionId of this.#open.keys()) {
      if (!live.has(sessionId)) events.push({ type: 'end', sessionId, atMs, reason: 'stop' })
    }
    for (const { sessionId, status, statusSinceMs, activity } of sessions) {
      const stretch = this.#open.get(sessionId)
      if (stretch !== undefined && stretch.status === status && sameActivity(stretch.activity, activity)) continue
      events.push({ type: stretch === undefined ? 'start' : 'change', sessionId, atMs: statusSinceMs, status, activity })
    }
    this.recordFromLog(events.sort((a, b) => a.atMs - b.atMs), position)
    return events.length
  }

  /** Applies the events of the restart, ends the stretches nothing resumed, and starts recording. */
  settle (): void {
    const held = this.#held
    if (held === null) return
    this.#held = null
    const nowMs = this.#clock.wallNow()
    // A history that never counted anything cannot count twice: it starts where the events do.
    const earliest = Math.min(nowMs, ...held.map((event) => event.type === 'resume' ? event.statusSinceMs : event.atMs))
    const fromMs = Math.min(this.#countedUntilMs ?? earliest, nowMs)
    this.#countedUntilMs = fromMs
    const heard = new Set(held.map(({ sessionId }) => sessionId))
    for (const [sessionId, stretch] of this.#open) {
      if (!heard.has(sessionId)) this.#end(stretch, fromMs)
    }
    const timed = held.map((event) => {
      if (event.type !== 'resume') return { event, atMs: Math.max(fromMs, event.atMs) }
      // Still in its status since statusSinceMs: from then on (or from where the count stands) it is in it.
      const { sessionId, status, statusSinceMs, activity } = event
      const type = this.#open.has(sessionId) ? 'change' : 'start'
      return { event: { type, sessionId, atMs: statusSinceMs, status, activity } as const, atMs: Math.max(fromMs, statusSinceMs) }
    })
    timed.sort((a, b) => a.atMs - b.atMs)
    for (const { event, atMs } of timed) this.#apply(event, atMs)
    this.#countTo(nowMs)
    this.#arm()
  }

  /** Days from..to that hold anything, with what is not written yet, counted up to now. */
  async days (from: IsoDate, to: IsoDate): Promise<DayTimes[]> {
    this.#countTo(this.#clock.wallNow())
    return withDeltas(await this.#store.days(from, to), [this.#written?.days, this.#days], from, to)
  }

  /** The `limit` stretches that started last, newest first, open ones counted up to now. */
  async stretches (limit: number): Promise<Stretch[]> {
    this.#countTo(this.#clock.wallNow())
    const stored = await this.#store.stretches(limit)
    return newestStretches(stored, [...this.#written?.copies ?? [], ...[...this.#dirty.values(), ...this.#open.values()].map(copyStretch)], limit)
  }

  /** Counts up to now and writes everything; recording stops. Open stretches stay open for the next process. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.settle()
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = null
    this.#countTo(this.#clock.wallNow())
    await this.#writing
    await this.#flush()
  }

  /**
   * Stops recording and writes nothing more: what was counted since the last write is left for
   * the next recorder to count again from the log (one that lost its lease, or that never caught up).
   */
  abandon (): void {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = null
  }

  #apply (event: SessionEvent, atMs: number): void {
    this.#countTo(atMs)
    const current = this.#open.get(event.sessionId)
    if (event.type === 'end') {
      if (current !== undefined) this.#end(current, atMs)
      return
    }
    if (current === undefined || event.type === 'start') {
      if (current !== undefined) this.#end(current, atMs)
      const stretch: LiveStretch = {
        key: randomUUID(),
        sessionId: event.sessionId,
        startMs: atMs,
        endMs: null,
        status: event.status,
        activity: event.activity,
        ms: { working: 0, waiting: 0, live: 0, idle: 0 }
      }
      this.#open.set(event.sessionId, stretch)
      this.#dirty.set(stretch.key, stretch)
      return
    }
    current.status = event.status
    current.activity = event.activity
    this.#dirty.set(current.key, current)
  }

  #end (stretch: LiveStretch, atMs: number): void {
    stretch.endMs = atMs
    if (stretch.sessionId !== null) this.#open.delete(stretch.sessionId)
    // Kept only so that a restart can find the stretch again; an ended one needs no name.
    stretch.sessionId = null
    this.#dirty.set(stretch.key, stretch)
  }

  /** Counts the time from where the count stands to `toMs` for the open stretches and the days. */
  #countTo (toMs: number): void {
    if (this.#held !== null) return
    const fromMs = this.#countedUntilMs
    if (fromMs !== null && toMs <= fromMs) return
    this.#countedUntilMs = toMs
    if (fromMs === null || this.#open.size === 0) return
    countLive([...this.#open.values()], fromMs, toMs, this.#calendar, this.#days)
    for (const stretch of this.#open.values()) this.#dirty.set(stretch.key, stretch)
  }

  /** Makes a write due within flushMs, unless one already is. */
  #arm (): void {
    if (this.#timer !== null || this.#closed) return
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null
      this.#countTo(this.#clock.wallNow())
      // One write at a time: while one is under way, `#writing` stays the one to wait for.
      if (this.#written === null) this.#writing = this.#flush()
      // While anything is live there is time to count and write every second; and a write skipped
      // because the last one is still under way is due again.
      if (this.#open.size > 0 || this.#dirty.size > 0 || this.#days.size > 0) this.#arm()
    }, this.#flushMs)
  }

  async #flush (): Promise<void> {
    if (this.#written !== null || this.#countedUntilMs === null) return
    const today = this.#calendar.dateAt(this.#countedUntilMs)
    if (this.#dirty.size === 0 && this.#days.size === 0 && this.#prunedOn === today) return
    const written: Written = { days: this.#days, stretches: this.#dirty, copies: [...this.#dirty.values()].map(copyStretch) }
    const keepFrom = addDays(today, 1 - this.#retentionDays)
    const batch: HistoryBatch = {
      recordedUntilMs: this.#countedUntilMs,
      position: this.#position,
      days: [...written.days].map(([date, delta]) => ({ date, ...delta })),
      stretches: written.copies,
      ...(this.#prunedOn !== today && { prune: { beforeDate: keepFrom, endedBeforeMs: this.#calendar.startOf(keepFrom) } })
    }
    this.#written = written
    this.#days = new Map()
    this.#dirty = new Map()
    try {
      await this.#store.write(batch)
      this.#prunedOn = today
      if (this.#failing) this.#onWriteProblem(null)
      this.#failing = false
    } catch (error) {
      // Put back in front of what changed since, so the next write carries it.
      for (const [date, delta] of written.days) {
        const day = this.#days.get(date)
        this.#days.set(date, day === undefined ? delta : { activeMs: delta.activeMs + day.activeMs, workingMs: delta.workingMs + day.workingMs, waitingMs: delta.waitingMs + day.waitingMs })
      }
      this.#dirty = new Map([...written.stretches, ...this.#dirty])
      if (!this.#failing) this.#onWriteProblem(error as Error)
      this.#failing = true
      this.#arm()
    } finally {
      this.#written = null
    }
  }
}
