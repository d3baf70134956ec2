export interface Timer {
  cancel (): void
}

/** Time source for the store, injectable so tests advance time instead of sleeping. */
export interface Clock {
  now (): number
  setTimer (callback: () => void, delayMs: number): Timer
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer (callback, delayMs) {
    const handle = setTimeout(callback, delayMs)
    return { cancel: () => clearTimeout(handle) }
  }
}
