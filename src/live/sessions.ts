import type { Heartbeat, HeartbeatResult, SessionEvent } from './store.ts'
import {
  ACTIVITY_FIELDS, INITIAL, sameActivity, snapshotOf, stateContent,
  type Activity, type ActivityField, type SessionStatus, type Snapshot, type StateContent
} from './public-state.ts'

/** The session a heartbeat without a body belongs to; outside the id alphabet, so no client id can collide. */
export const DEFAULT_SESSION = '(default)'

/**
 * The moment a step happens on the two clocks the sessions run on: deadlines on `now`, the
 * dates people read (`since`, `lastSeen`, each status) on `wallNow`. In one process `now` is
 * monotonic; shared by replicas both are the shared server's time.
 */
export interface Moment {
  readonly now: number
  readonly wallNow: number
}

export interface LiveSessionsOptions {
  ttlMs: number
  /** Live sessions at most; a heartbeat for one more is refused until one ends. */
  maxSessions: number
  /** The activity fields published; the others are dropped on arrival, never stored. */
  publicFields: ReadonlySet<ActivityField>
  /** Hears what happens to each session, as it happens. */
  tell?: (event: SessionEvent) => void
}

/** A saved session; wall-clock times in ms, so they mean something to the next process. */
export interface SessionRecord {
  readonly id: string
  readonly expiresAtMs: number
  readonly status: SessionStatus
  readonly statusSinceMs: number
  readonly activity: Activity
}

/** Everything needed to bring the state back. */
export interface StoreRecord {
  readonly seq: number
  readonly sinceMs: number | null
  readonly lastSeenMs: number | null
  /** Least recently changed first. */
  readonly sessions: readonly SessionRecord[]
}

/**
 * A public state kept while its sessions are unknown: what viewers were shown when the shared
 * server lost its data, held until the first heartbeat or stop, or until `untilMs` (on `now`).
 */
export interface HeldState {
  readonly content: StateContent
  readonly untilMs: number
}

interface Session {
  status: SessionStatus
  /** Wall clock: when it entered its status. */
  statusSinceMs: number
  /** Only the public fields. */
  activity: Activity
  /** On `now`: when it expires. */
  deadline: number
  /** The same moment on the wall clock as it read at the heartbeat: what a saved record holds. */
  expiresAtMs: number
  /** When it last changed publicly, as a count: orders the activity list without ties. */
  changeOrder: number
}

/**
 * The domain rules of the live state, with no clock, timer or listener of its own: which Claude
 * Code sessions are live and what they are doing, and the public state that follows. Each step is
 * told its moment; each session lives until ttl after its last heartbeat; the seq goes up by one
 * only when the public state changes, and `snapshot` stays the same object otherwise. The process
 * store (src/live/state.ts) keeps one for good; the shared store (src/live/redis-store.ts) loads
 * one from the shared server for each step.
 */
export class LiveSessions {
  readonly #ttlMs: number
  readonly #maxSessions: number
  readonly #publicFields: ReadonlySet<ActivityField>
  readonly #tell: (event: SessionEvent) => void
  readonly #sessions = new Map<string, Session>()
  #sinceMs: number | null = null
  #lastSeenMs: number | null = null
  #held: HeldState | null = null
  #changes = 0
  #snapshot: Snapshot = INITIAL
  #content: StateContent = stateContent({ sinceMs: null, lastSeenMs: null, sessions: [] })

  constructor ({ ttlMs, maxSessions, publicFields, tell = () => {} }: LiveSessionsOptions) {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be a positive number')
    this.#ttlMs = ttlMs
    this.#maxSessions = maxSessions
    this.#publicFields = publicFields
    this.#tell = tell
  }

  /** The current public state; the same object until it changes. */
  get snapshot (): Snapshot {
    return this.#snapshot
  }

  get held (): HeldState | null {
    return this.#held
  }

  /** When the next session (or a held state) expires, on `now`; Infinity when none will. */
  get earliestDeadline (): number {
    let earliest = this.#held?.untilMs ?? Infinity
    for (const { deadline } of this.#sessions.values()) earliest = Math.min(earliest, deadline)
    return earliest
  }

  /** Marks the session alive until ttl from now, with its status and activity if given. */
  heartbeat ({ sessionId = DEFAULT_SESSION, status, activity }: Heartbeat, at: Moment): HeartbeatResult {
    const { now, wallNow } = at
    this.#dropExpired(at)
    const session = this.#sessions.get(sessionId)
    if (session === undefined && this.#sessions.size >= this.#maxSessions) {
      return { retryAfterMs: Math.max(0, this.earliestDeadline - now) }
    }
    if (this.#sessions.size === 0 && this.#held === null) this.#sinceMs = wallNow
    this.#held = null
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
    return { snapshot: this.#commit(at) }
  }

  /** Ends one session, or every session when no id is given; either ends a held state. */
  stop (sessionId: string | undefined, at: Moment): Snapshot {
    this.#dropExpired(at)
    this.#held = null
    for (const id of sessionId === undefined ? [...this.#sessions.keys()] : [sessionId]) {
      if (this.#sessions.delete(id)) this.#tell({ type: 'end', sessionId: id, atMs: at.wallNow, reason: 'stop' })
    }
    return this.#commit(at)
  }

  /** Ends whatever has reached its deadline. */
  expire (at: Moment): Snapshot {
    this.#dropExpired(at)
    return this.#commit(at)
  }

  /**
   * Replaces the state with a record saved by another process, whose wall clock is the only one
   * the two share. Sessions already expired are dropped, none outlives ttl from now whatever the
   * record says, and no time is later than now. The seq goes on from the saved one, so it never
   * goes backwards, and stays if the public state is what it was.
   */
  restore ({ seq, sinceMs, lastSeenMs, sessions }: StoreRecord, at: Moment): Snapshot {
    // The state as it was published with `seq`: if nothing has changed since, it keeps that seq.
    this.#content = stateContent({ sinceMs, lastSeenMs, sessions: sessions.toReversed() })
    this.#snapshot = snapshotOf(this.#content, seq)
    const { now, wallNow } = at
    this.#sessions.clear()
    this.#held = null
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
    return this.#commit(at)
  }

  /**
   * Takes a record this class wrote, on the same clock, exactly as it was (`now` and `wallNow`
   * being one clock): no step, no event. What a shared store does before each step.
   */
  load ({ seq, sinceMs, lastSeenMs, sessions }: StoreRecord, held: HeldState | null): Snapshot {
    this.#sessions.clear()
    this.#changes = 0
    for (const { id, expiresAtMs, status, statusSinceMs, activity } of sessions) {
      this.#sessions.set(id, { deadline: expiresAtMs, expiresAtMs, status, statusSinceMs, activity, changeOrder: ++this.#changes })
    }
    this.#sinceMs = sinceMs
    this.#lastSeenMs = lastSeenMs
    this.#held = held
    this.#content = this.#currentContent()
    this.#snapshot = snapshotOf(this.#content, seq)
    return this.#snapshot
  }

  /**
   * Makes the next step publish, changed or not, with a seq above `shownSeq`: a replica's viewers
   * have been shown that seq, and the shared server, having lost its data, started again below it,
   * so other replicas may be showing something older.
   */
  catchUp (shownSeq: number): void {
    this.#snapshot = snapshotOf(this.#content, Math.max(this.#snapshot.state.seq, shownSeq))
    // Whatever the step does, its content differs from this: it is published, with the next seq.
    this.#content = ''
  }

  /**
   * Holds a public state the sessions behind it were lost from, with its seq, for ttl from now:
   * the daemons' next heartbeats take over from it, keeping `since`; without one, it goes offline.
   */
  hold (shown: Snapshot, at: Moment): Snapshot {
    const { seq, since, lastSeen, active } = shown.state
    this.#sessions.clear()
    this.#sinceMs = since === null ? null : Date.parse(since)
    this.#lastSeenMs = lastSeen === null ? null : Date.parse(lastSeen)
    // The snapshot's JSON without its seq: `{"seq":N,` is how snapshotOf begins every one.
    this.#held = active ? { content: `{${shown.json.slice(shown.json.indexOf(',') + 1)}`, untilMs: at.now + this.#ttlMs } : null
    this.#content = this.#currentContent()
    this.#snapshot = snapshotOf(this.#content, seq)
    return this.#snapshot
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

  #shared (activity: Activity): Activity {
    const shared: Activity = {}
    for (const field of ACTIVITY_FIELDS) {
      const value = activity[field]
      if (value !== undefined && this.#publicFields.has(field)) shared[field] = value
    }
    return shared
  }

  #dropExpired ({ now, wallNow }: Moment): void {
    if (this.#held !== null && this.#held.untilMs <= now) this.#held = null
    for (const [id, session] of this.#sessions) {
      if (session.deadline > now) continue
      this.#sessions.delete(id)
      // Found expired at a later step: it ended at its deadline, not now.
      this.#tell({ type: 'end', sessionId: id, atMs: wallNow - (now - session.deadline), reason: 'expiry' })
    }
  }

  #currentContent (): StateContent {
    if (this.#held !== null) return this.#held.content
    const sessions = [...this.#sessions.values()].sort((a, b) => b.changeOrder - a.changeOrder)
    return stateContent({ sinceMs: this.#sinceMs, lastSeenMs: this.#lastSeenMs, sessions })
  }

  #commit ({ wallNow }: Moment): Snapshot {
    if (this.#sessions.size === 0 && this.#held === null && this.#sinceMs !== null) {
      this.#sinceMs = null
      this.#lastSeenMs = wallNow
    }
    const content = this.#currentContent()
    if (content !== this.#content) {
      this.#content = content
      this.#snapshot = snapshotOf(content, this.#snapshot.state.seq + 1)
    }
    return this.#snapshot
  }
}
