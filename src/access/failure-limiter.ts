import { systemClock, type Clock } from '../clock.ts'

export interface FailureLimiterOptions {
  /** Failures a key may have in one window; the next attempt is refused until the window ends. */
  maxFailures: number
  windowMs: number
  /** Keys remembered at most, so memory stays bounded; see recordFailure for who is forgotten. */
  maxKeys: number
  clock?: Clock
}

/**
 * Where failures are counted: in this process (FailureLimiter), or shared by replicas
 * (src/access/redis-failure-limiter.ts), so failures spread over replicas add up.
 */
export interface FailureCounter {
  /** How long the key must wait before its next attempt; 0 when it may try now. */
  retryAfterMs (key: string): number | Promise<number>
  /** Counts one failure; false when it could not be counted (no room for the key). */
  recordFailure (key: string): boolean | Promise<boolean>
}

interface Window {
  readonly key: string
  readonly startedAt: number
  failures: number
}

/**
 * Counts failures per key (a client address) in fixed windows that start at
 * the key's first failure. Only failures count, so a client that always
 * succeeds is never limited, however often it calls.
 */
export class FailureLimiter implements FailureCounter {
  readonly #maxFailures: number
  readonly #windowMs: number
  readonly #maxKeys: number
  readonly #clock: Clock
  /** Every window, in order of start: a key whose window restarts is re-inserted at the end. */
  readonly #windows = new Map<string, Window>()
  /**
   * The windows that may be forgotten to make room: index n holds those with n failures
   * (1 ≤ n < maxFailures), in the order they reached n. Blocked windows are in none.
   */
  readonly #unblockedByFailures: Array<Set<Window>>

  constructor ({ maxFailures, windowMs, maxKeys, clock = systemClock }: FailureLimiterOptions) {
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    this.#maxKeys = maxKeys
    this.#clock = clock
    this.#unblockedByFailures = Array.from({ length: maxFailures }, () => new Set<Window>())
  }

  /** How long the key must wait before its next attempt; 0 when it may try now. */
  retryAfterMs (key: string): number {
    const now = this.#clock.now()
    const window = this.#current(key, now)
    if (window === undefined || window.failures < this.#maxFailures) return 0
    return window.startedAt + this.#windowMs - now
  }

  /**
   * Counts one failure. A new key needs a slot; when all are taken, the cheapest to forget
   * gives up its own: an ended window, else the live window with the fewest failures (of
   * equals, the one that got there first), so forgetting one never costs more failures than
   * the newcomer has made. A blocked window is never forgotten before it ends: when every
   * slot holds one, the new key is not tracked and this returns false.
   */
  recordFailure (key: string): boolean {
    const now = this.#clock.now()
    let window = this.#current(key, now)
    if (window === undefined) {
      this.#forgetEnded(now)
      if (this.#windows.size >= this.#maxKeys && !this.#forgetCheapestLive()) return false
      window = { key, startedAt: now, failures: 0 }
      this.#windows.set(key, window)
    } else {
      this.#unblockedByFailures[window.failures]?.delete(window)
    }
    window.failures++
    this.#unblockedByFailures[window.failures]?.add(window)
    return true
  }

  get trackedKeys (): number {
    return this.#windows.size
  }

  #current (key: string, now: number): Window | undefined {
    const window = this.#windows.get(key)
    if (window !== undefined && this.#ended(window, now)) {
      this.#forget(window)
      return undefined
    }
    return window
  }

  #ended (window: Window, now: number): boolean {
    return now - window.startedAt >= this.#windowMs
  }

  /** Windows are in order of start, so the ended ones are at the front. */
  #forgetEnded (now: number): void {
    for (const window of this.#windows.values()) {
      if (!this.#ended(window, now)) return
      this.#forget(window)
    }
  }

  /** Forgets the live window with the fewest failures, if any is not blocked. */
  #forgetCheapestLive (): boolean {
    for (const windows of this.#unblockedByFailures) {
      const cheapest = windows.values().next().value
      if (cheapest !== undefined) {
        this.#forget(cheapest)
        return true
      }
    }
    return false
  }

  #forget (window: Window): void {
    this.#windows.delete(window.key)
    this.#unblockedByFailures[window.failures]?.delete(window)
  }
}
