import { systemClock, type Clock } from './clock.js'

export interface FailureLimiterOptions {
  /** Failures a key may have in one window; the next attempt is refused until the window ends. */
  maxFailures: number
  windowMs: number
  /** Keys remembered at most; past it the oldest windows are forgotten first, so memory stays bounded. */
  maxKeys: number
  clock?: Clock
}

interface Window {
  readonly startedAt: number
  failures: number
}

/**
 * Counts failures per key (a client address) in fixed windows that start at
 * the key's first failure. Only failures count, so a client that always
 * succeeds is never limited, however often it calls.
 */
export class FailureLimiter {
  readonly #maxFailures: number
  readonly #windowMs: number
  readonly #maxKeys: number
  readonly #clock: Clock
  /** In order of window start: a key whose window restarts is re-inserted at the end. */
  readonly #windows = new Map<string, Window>()

  constructor ({ maxFailures, windowMs, maxKeys, clock = systemClock }: FailureLimiterOptions) {
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    this.#maxKeys = maxKeys
    this.#clock = clock
  }

  /** How long the key must wait before its next attempt; 0 when it may try now. */
  retryAfterMs (key: string): number {
    const now = this.#clock.now()
    const window = this.#current(key, now)
    if (window === undefined || window.failures < this.#maxFailures) return 0
    return window.startedAt + this.#windowMs - now
  }

  recordFailure (key: string): void {
    const now = this.#clock.now()
    let window = this.#current(key, now)
    if (window === undefined) {
      this.#forgetOldest(now)
      window = { startedAt: now, failures: 0 }
      this.#windows.set(key, window)
    }
    window.failures++
  }

  get trackedKeys (): number {
    return this.#windows.size
  }

  #current (key: string, now: number): Window | undefined {
    const window = this.#windows.get(key)
    if (window !== undefined && now - window.startedAt >= this.#windowMs) {
      this.#windows.delete(key)
      return undefined
    }
    return window
  }

  /** Drops ended windows, oldest first, and while full the oldest live ones too, to make room for one. */
  #forgetOldest (now: number): void {
    for (const [key, window] of this.#windows) {
      if (now - window.startedAt < this.#windowMs && this.#windows.size < this.#maxKeys) return
      this.#windows.delete(key)
    }
  }
}
