import type { Clock, Timer } from '../../src/clock.js'

interface Pending {
  at: number
  callback: () => void
  cancelled: boolean
}

/** A clock that moves only when told to, firing due timers in deadline order. */
export class FakeClock implements Clock {
  #now: number
  #pending: Pending[] = []

  constructor (start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.#now = start
  }

  now (): number {
    return this.#now
  }

  setTimer (callback: () => void, delayMs: number): Timer {
    const entry: Pending = { at: this.#now + Math.max(0, delayMs), callback, cancelled: false }
    this.#pending.push(entry)
    return { cancel: () => { entry.cancelled = true } }
  }

  /** Timers armed and not yet fired or cancelled. */
  get armed (): number[] {
    return this.#pending.filter((entry) => !entry.cancelled).map((entry) => entry.at)
  }

  advance (ms: number): void {
    const target = this.#now + ms
    for (;;) {
      const due = this.#pending
        .filter((entry) => !entry.cancelled && entry.at <= target)
        .sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      this.#pending = this.#pending.filter((entry) => entry !== due)
      this.#now = due.at
      due.callback()
    }
    this.#pending = this.#pending.filter((entry) => !entry.cancelled)
    this.#now = target
  }
}
