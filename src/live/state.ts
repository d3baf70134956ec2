import { systemClock, type Clock, type Timer } from '../clock.ts'
import type { Snapshot } from './public-state.ts'
import { LiveSessions, type LiveSessionsOptions, type Moment, type StoreRecord } from './sessions.ts'
import { subscribe, type Heartbeat, type HeartbeatResult, type LiveStore, type SessionEvent } from './store.ts'

export interface LiveStateOptions extends Omit<LiveSessionsOptions, 'tell'> {
  clock?: Clock
}

export type ChangeListener = (snapshot: Snapshot) => void
type SessionEventListener = (event: SessionEvent) => void

/**
 * The live state held in this process: the domain rules (src/live/sessions.ts) on this process's
 * clocks, with one timer armed for the earliest deadline. Deadlines run on the monotonic clock;
 * the wall clock only dates `since`, `lastSeen` and each status.
 *
 * Change listeners hear each change of the public state, once, with its seq; session event
 * listeners hear what happened to each session; sessions listeners hear every mutation,
 * deadlines included, for whoever persists them.
 */
export class LiveState implements LiveStore {
  readonly #clock: Clock
  readonly #sessions: LiveSessions
  readonly #listeners = new Set<ChangeListener>()
  readonly #eventListeners = new Set<SessionEventListener>()
  readonly #sessionsListeners = new Set<() => void>()
  #timer: Timer | null = null
  #timerDeadline = Infinity

  constructor ({ clock = systemClock, ...options }: LiveStateOptions) {
    this.#clock = clock
    this.#sessions = new LiveSessions({ ...options, tell: (event) => { for (const listener of this.#eventListeners) listener(event) } })
  }

  /** Never unreachable: the state is in this process. */
  readonly available = true

  /** The current public state: what a viewer joining now is sent first. */
  get snapshot (): Snapshot {
    return this.#sessions.snapshot
  }

  /** Marks the session alive until ttl from now, with its status and activity if given. */
  async heartbeat (heartbeat: Heartbeat = {}): Promise<HeartbeatResult> {
    const before = this.snapshot
    const result = this.#sessions.heartbeat(heartbeat, this.#moment())
    // Refused: nothing changed, not even a deadline.
    if (result.snapshot !== undefined) this.#settle(result.snapshot !== before)
    return result
  }

  /** Ends one session, or every session when no id is given. */
  async stop (sessionId?: string): Promise<Snapshot> {
    const before = this.snapshot
    return this.#settle(this.#sessions.stop(sessionId, this.#moment()) !== before)
  }

  /**
   * Replaces the state with a saved record (see LiveSessions.restore): the seq goes on from the
   * saved one, and sessions that expired meanwhile are gone.
   */
  restore (record: StoreRecord): Snapshot {
    // Told as a change only if it is not the state published with the record's seq.
    return this.#settle(this.#sessions.restore(record, this.#moment()).state.seq !== record.seq)
  }

  toRecord (): StoreRecord {
    return this.#sessions.toRecord()
  }

  onChange (listener: ChangeListener): () => void {
    return subscribe(this.#listeners, listener)
  }

  onSessionEvent (listener: SessionEventListener): () => void {
    return subscribe(this.#eventListeners, listener)
  }

  /** Called after every mutation, including a heartbeat that only moves a deadline. */
  onSessionsChange (listener: () => void): () => void {
    return subscribe(this.#sessionsListeners, listener)
  }

  async close (): Promise<void> {
    this.#timer?.cancel()
    this.#timer = null
    this.#timerDeadline = Infinity
    this.#listeners.clear()
    this.#eventListeners.clear()
    this.#sessionsListeners.clear()
  }

  #moment (): Moment {
    return { now: this.#clock.now(), wallNow: this.#clock.wallNow() }
  }

  /** After a step: re-arms the timer, and tells the change if the public state changed. */
  #settle (changed: boolean): Snapshot {
    this.#schedule()
    const snapshot = this.snapshot
    if (changed) for (const listener of this.#listeners) listener(snapshot)
    for (const listener of this.#sessionsListeners) listener()
    return snapshot
  }

  #schedule (): void {
    const earliest = this.#sessions.earliestDeadline
    if (earliest === this.#timerDeadline) return
    this.#timer?.cancel()
    this.#timerDeadline = earliest
    this.#timer = earliest === Infinity
      ? null
      : this.#clock.setTimer(() => this.#onDeadline(), earliest - this.#clock.now())
  }

  #onDeadline (): void {
    this.#timer = null
    this.#timerDeadline = Infinity
    const before = this.snapshot
    this.#settle(this.#sessions.expire(this.#moment()) !== before)
  }
}
