import type { Clock, Timer } from '../../src/clock.ts'

interface Pending {
  at: number
  callback: () => void
  cancelled: boolean
}

const START = Date.parse('2026-01-01T00:00:00.000Z')

/**
 * A clock that moves only when told to, firing due timers in deadline order. The monotonic time
 * starts at 0 and the wall clock at `start`; both advance together, and stepWall() moves the wall
 * clock alone, as an NTP step or a hand-set system clock would.
 */
export class FakeClock implements Clock {
  #now = 0
  #wallOffset: number
  #pending: Pending[] = []

  constructor (start = START) {
    this.#wallOffset = start
  }

  now (): number {
    return this.#now
  }

  wallNow (): number {
    return this.#now + this.#wallOffset
  }

  setTimer (callback: () => void, delayMs: number): Timer {
    const entry: Pending = { at: this.#now + Math.max(0, delayMs), callback, cancelled: false }
    this.#pending.push(entry)
    return { cancel: () => { entry.cancelled = true } }
  }

  /** Timers armed and not yet fired or cancelled, as monotonic times. */
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

  /** Moves the wall clock by `ms` (negative: back) without any time passing. */
  stepWall (ms: number): void {
    this.#wallOffset += ms
  }
}
