import { systemClock, type Clock, type Timer } from './clock.js'
import type { Heartbeat, HeartbeatResult, LiveStore, SessionEvent } from './live-store.js'
import {
  ACTIVITY_FIELDS, INITIAL, snapshotOf, stateContent,
  type Activity, type ActivityField, type SessionStatus, type Snapshot, type StateContent
} from './public-state.js'

/** The session a heartbeat without a body belongs to; outside the id alphabet, so no client id can collide. */
export const DEFAULT_SESSION = '(default)'

export interface LiveStateOptions {
  ttlMs: number
  /** Live sessions at most; a heartbeat for one more is refused until one ends. */
  maxSessions: number
  /** The activity fields published; the others are dropped on arrival, never stored. */
  publicFields: ReadonlySet<ActivityField>
  clock?: Clock
}

export type ChangeListener = (snapshot: Snapshot) => void
type SessionEventListener = (event: SessionEvent) => void

/** A saved session; wall-clock times in ms, so they mean something to the next process. */
export interface SessionRecord {
  readonly id: string
  readonly expiresAtMs: number
  readonly status: SessionStatus
  readonly statusSinceMs: number
  readonly activity: Activity
}

/** Everything needed to bring the state back after a restart. */
export interface StoreRecord {
  readonly seq: number
  readonly sinceMs: number | null
  readonly lastSeenMs: number | null
  readonly sessions: readonly SessionRecord[]
}

interface Session {
  status: SessionStatus
  /** Wall clock: when it entered its status. */
  statusSinceMs: number
  /** Only the public fields. */
  activity: Activity
  /** On the monotonic clock: when it expires. */
  deadline: number
  /** The same moment on the wall clock as it read at the heartbeat: what a saved record holds. */
  expiresAtMs: number
  /** When it last changed publicly, as a count: orders the activity list without ties. */
  changeOrder: number
}

/**
 * The live state held in this process. Which Claude Code sessions are live and what they are
 * doing: each session lives until ttl after its last heartbeat; one timer is armed for the
 * earliest deadline. Deadlines run on the monotonic clock; the wall clock only dates `since`,
 * `lastSeen` and each status.
 *
 * Change listeners hear each change of the public state, once, with its seq; session event
 * listeners hear what happened to each session; sessions listeners hear every mutation,
 * deadlines included, for whoever persists them.
 */
export class LiveState implements LiveStore {
  readonly #ttlMs: number
  readonly #maxSessions: number
  readonly #publicFields: ReadonlySet<ActivityField>
  readonly #clock: Clock
  readonly #sessions = new Map<string, Session>()
  readonly #listeners = new Set<ChangeListener>()
  readonly #eventListeners = new Set<SessionEventListener>()
  readonly #sessionsListeners = new Set<() => void>()
  #sinceMs: number | null = null
  #lastSeenMs: number | null = null
  #changes = 0
  #snapshot: Snapshot = INITIAL
  #content: StateContent = stateContent({ sinceMs: null, lastSeenMs: null, sessions: [] })
  #timer: Timer | null = null
  #timerDeadline = Infinity

  constructor ({ ttlMs, maxSessions, publicFields, clock = systemClock }: LiveStateOptions) {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be a positive number')
    this.#ttlMs = ttlMs
    this.#maxSessions = maxSessions
    this.#publicFields = publicFields
    this.#clock = clock
  }

  /** The current public state: what a viewer joining now is sent first. */
  get snapshot (): Snapshot {
    return this.#snapshot
  }

  /** Marks the session alive until ttl from now, with its status and activity if given. */
  async heartbeat ({ sessionId = DEFAULT_SESSION, status, activity }: Heartbeat = {}): Promise<HeartbeatResult> {
    const now = this.#clock.now()
    const wallNow = this.#clock.wallNow()
    this.#dropExpired(now)
    const session = this.#sessions.get(sessionId)
    if (session === undefined && this.#sessions.size >= this.#maxSessions) {
      return { retryAfterMs: Math.max(0, this.#earliestDeadline() - now) }
    }
    if (this.#sessions.size === 0) this.#sinceMs = wallNow
    const shared = activity === undefined ? undefined : this.#shared(activity)
    if (session === undefined) {
      const started: Session = {
        deadline: now + this.#ttlMs,
        expiresAtMs: wallNow + this.#ttlMs,
        status: status ?? 'live',
        statusSinceMs: wallNow,
        activity: shared ?? {},
        changeOrder: ++this.#changes
      }
      this.#sessions.set(sessionId, started)
      this.#tell({ type: 'start', sessionId, atMs: wallNow, status: started.status, activity: started.activity })
    } else {
      session.deadline = now + this.#ttlMs
      session.expiresAtMs = wallNow + this.#ttlMs
      const statusChanged = status !== undefined && status !== session.status
      const activityChanged = shared !== undefined && !sameActivity(shared, session.activity)
      if (statusChanged) {
        session.status = status
        session.statusSinceMs = wallNow
      }
      if (activityChanged) session.activity = shared
      if (statusChanged || activityChanged) {
        session.changeOrder = ++this.#changes
        this.#tell({ type: 'change', sessionId, atMs: wallNow, status: session.status, activity: session.activity })
      }
    }
    return { snapshot: this.#commit() }
  }

  /** Ends one session, or every session when no id is given. */
  async stop (sessionId?: string): Promise<Snapshot> {
    this.#dropExpired(this.#clock.now())
    const atMs = this.#clock.wallNow()
    for (const id of sessionId === undefined ? [...this.#sessions.keys()] : [sessionId]) {
      if (this.#sessions.delete(id)) this.#tell({ type: 'end', sessionId: id, atMs, reason: 'stop' })
    }
    return this.#commit()
  }

  /**
   * Replaces the state with a saved record. Sessions already expired are dropped, none outlives
   * ttl from now whatever the record says, and no time is later than now. The seq goes on from the
   * saved one, so it never goes backwards, and stays if the public state is what it was.
   */
  restore ({ seq, sinceMs, lastSeenMs, sessions }: StoreRecord): Snapshot {
    // The state as it was published with `seq`: if nothing has changed since, it keeps that seq.
    this.#content = stateContent({ sinceMs, lastSeenMs, sessions: sessions.toReversed() })
    this.#snapshot = snapshotOf(this.#content, seq)
    const now = this.#clock.now()
    const wallNow = this.#clock.wallNow()
    this.#sessions.clear()
    let lastExpiryMs: number | null = null
    for (const { id, expiresAtMs, status, statusSinceMs, activity } of sessions) {
      const remainingMs = Math.min(expiresAtMs - wallNow, this.#ttlMs)
      if (remainingMs <= 0) {
        const endedAtMs = Math.min(expiresAtMs, wallNow)
        lastExpiryMs = Math.max(lastExpiryMs ?? -Infinity, endedAtMs)
        this.#tell({ type: 'end', sessionId: id, atMs: endedAtMs, reason: 'expiry' })
        continue
      }
      this.#sessions.set(id, {
        deadline: now + remainingMs,
        expiresAtMs: wallNow + remainingMs,
        status,
        statusSinceMs: Math.min(statusSinceMs, wallNow),
        activity: this.#shared(activity),
        changeOrder: ++this.#changes
      })
    }
    // A record from a run with a higher cap keeps the most recently changed (the last ones).
    for (const id of this.#sessions.keys()) {
      if (this.#sessions.size <= this.#maxSessions) break
      this.#sessions.delete(id)
      this.#tell({ type: 'end', sessionId: id, atMs: wallNow, reason: 'stop' })
    }
    for (const [id, { status, statusSinceMs, activity }] of this.#sessions) {
      this.#tell({ type: 'resume', sessionId: id, atMs: wallNow, status, statusSinceMs, activity })
    }
    this.#sinceMs = this.#sessions.size === 0 ? null : Math.min(sinceMs ?? wallNow, wallNow)
    // Sessions that ended while no process was running went offline at their deadline.
    this.#lastSeenMs = this.#sessions.size === 0 && lastExpiryMs !== null ? lastExpiryMs : lastSeenMs
    return this.#commit()
  }

  toRecord (): StoreRecord {
    return {
      seq: this.#snapshot.state.seq,
      sinceMs: this.#sinceMs,
      lastSeenMs: this.#lastSeenMs,
      // Least recently changed first, so a restore that numbers them in turn keeps their order.
      sessions: [...this.#sessions].sort(([, a], [, b]) => a.changeOrder - b.changeOrder)
        .map(([id, { expiresAtMs, status, statusSinceMs, activity }]) => ({ id, expiresAtMs, status, statusSinceMs, activity }))
    }
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

  #shared (activity: Activity): Activity {
    const shared: Activity = {}
    for (const field of ACTIVITY_FIELDS) {
      const value = activity[field]
      if (value !== undefined && this.#publicFields.has(field)) shared[field] = value
    }
    return shared
  }

  #dropExpired (now: number): void {
    const wallNow = this.#clock.wallNow()
    for (const [id, session] of this.#sessions) {
      if (session.deadline > now) continue
      this.#sessions.delete(id)
      // Found expired at a later heartbeat: it ended at its deadline, not now.
      this.#tell({ type: 'end', sessionId: id, atMs: wallNow - (now - session.deadline), reason: 'expiry' })
    }
  }

  #tell (event: SessionEvent): void {
    for (const listener of this.#eventListeners) listener(event)
  }

  #earliestDeadline (): number {
    let earliest = Infinity
    for (const { deadline } of this.#sessions.values()) earliest = Math.min(earliest, deadline)
    return earliest
  }

  #commit (): Snapshot {
    if (this.#sessions.size === 0 && this.#sinceMs !== null) {
      this.#sinceMs = null
      this.#lastSeenMs = this.#clock.wallNow()
    }
    this.#schedule()
    const sessions = [...this.#sessions.values()].sort((a, b) => b.changeOrder - a.changeOrder)
    const content = stateContent({ sinceMs: this.#sinceMs, lastSeenMs: this.#lastSeenMs, sessions })
    if (content !== this.#content) {
      this.#content = content
      this.#snapshot = snapshotOf(content, this.#snapshot.state.seq + 1)
      for (const listener of this.#listeners) listener(this.#snapshot)
    }
    for (const listener of this.#sessionsListeners) listener()
    return this.#snapshot
  }

  #schedule (): void {
    const earliest = this.#earliestDeadline()
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
    this.#dropExpired(this.#clock.now())
    this.#commit()
  }
}

function sameActivity (a: Activity, b: Activity): boolean {
  return ACTIVITY_FIELDS.every((field) => a[field] === b[field])
}

function subscribe<Listener> (listeners: Set<Listener>, listener: Listener): () => void {
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}
