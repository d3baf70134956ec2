import { systemClock, type Clock, type Timer } from './clock.js'
import { createSnapshot, OFFLINE, type Snapshot } from './public-state.js'

/** The session a heartbeat without a body belongs to; outside the id alphabet, so no client id can collide. */
export const DEFAULT_SESSION = '(default)'

export interface LiveStateOptions {
  ttlMs: number
  clock?: Clock
}

export type ChangeListener = (snapshot: Snapshot) => void

/** Everything needed to bring the sessions back after a restart: wall-clock times in ms. */
export interface SessionRecord {
  readonly sinceMs: number | null
  readonly expiries: ReadonlyArray<readonly [sessionId: string, expiresAtMs: number]>
}

/**
 * Which Claude Code sessions are live. Each session lives until ttl after its
 * last heartbeat; one timer is armed for the earliest deadline. Change listeners
 * hear only when the public state (active, since, sessions) changes; sessions
 * listeners hear every mutation, deadlines included, for whoever persists them.
 */
export class LiveState {
  readonly #ttlMs: number
  readonly #clock: Clock
  readonly #expiries = new Map<string, number>()
  readonly #listeners = new Set<ChangeListener>()
  readonly #sessionsListeners = new Set<() => void>()
  #sinceMs: number | null = null
  #publishedSinceMs: number | null = null
  #snapshot: Snapshot = OFFLINE
  #timer: Timer | null = null
  #timerDeadline = Infinity

  constructor ({ ttlMs, clock = systemClock }: LiveStateOptions) {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be a positive number')
    this.#ttlMs = ttlMs
    this.#clock = clock
  }

  get snapshot (): Snapshot {
    return this.#snapshot
  }

  /** Marks the session alive until ttl from now. */
  heartbeat (sessionId: string = DEFAULT_SESSION): Snapshot {
    const now = this.#clock.now()
    this.#dropExpired(now)
    if (this.#expiries.size === 0) this.#sinceMs = now
    this.#expiries.set(sessionId, now + this.#ttlMs)
    return this.#commit()
  }

  /** Ends one session, or every session when no id is given. */
  stop (sessionId?: string): Snapshot {
    this.#dropExpired(this.#clock.now())
    if (sessionId === undefined) this.#expiries.clear()
    else this.#expiries.delete(sessionId)
    return this.#commit()
  }

  /**
   * Replaces the sessions with a saved record. Sessions already expired are
   * dropped, and none outlives ttl from now, whatever the record says.
   */
  restore ({ sinceMs, expiries }: SessionRecord): Snapshot {
    const now = this.#clock.now()
    this.#expiries.clear()
    for (const [sessionId, expiresAtMs] of expiries) {
      if (expiresAtMs > now) this.#expiries.set(sessionId, Math.min(expiresAtMs, now + this.#ttlMs))
    }
    this.#sinceMs = Math.min(sinceMs ?? now, now)
    return this.#commit()
  }

  toRecord (): SessionRecord {
    return { sinceMs: this.#sinceMs, expiries: [...this.#expiries] }
  }

  onChange (listener: ChangeListener): () => void {
    return subscribe(this.#listeners, listener)
  }

  /** Called after every mutation, including a heartbeat that only moves a deadline. */
  onSessionsChange (listener: () => void): () => void {
    return subscribe(this.#sessionsListeners, listener)
  }

  close (): void {
    this.#timer?.cancel()
    this.#timer = null
    this.#timerDeadline = Infinity
    this.#listeners.clear()
    this.#sessionsListeners.clear()
  }

  #dropExpired (now: number): void {
    for (const [id, expiresAt] of this.#expiries) {
      if (expiresAt <= now) this.#expiries.delete(id)
    }
  }

  #commit (): Snapshot {
    if (this.#expiries.size === 0) this.#sinceMs = null
    this.#schedule()
    const sessions = this.#expiries.size
    if (sessions !== this.#snapshot.state.sessions || this.#sinceMs !== this.#publishedSinceMs) {
      this.#publishedSinceMs = this.#sinceMs
      this.#snapshot = createSnapshot(sessions, this.#sinceMs)
      for (const listener of this.#listeners) listener(this.#snapshot)
    }
    for (const listener of this.#sessionsListeners) listener()
    return this.#snapshot
  }

  #schedule (): void {
    let earliest = Infinity
    for (const expiresAt of this.#expiries.values()) {
      if (expiresAt < earliest) earliest = expiresAt
    }
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

function subscribe<Listener> (listeners: Set<Listener>, listener: Listener): () => void {
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}
