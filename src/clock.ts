export interface Timer {
  cancel (): void
}

/**
 * The service's time, injectable so tests advance it instead of sleeping. Two sources on purpose:
 * deadlines, windows and timers run on the monotonic `now()`, which never jumps; the wall clock
 * only names moments for people (`since`, `lastSeen`), so a step of the system clock cannot
 * extend or cut a session.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock with an arbitrary origin. */
  now (): number
  /** Milliseconds since the Unix epoch, as the system clock says. */
  wallNow (): number
  setTimer (callback: () => void, delayMs: number): Timer
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer (callback, delayMs) {
    const handle = setTimeout(callback, delayMs)
    return { cancel: () => clearTimeout(handle) }
  }
}
