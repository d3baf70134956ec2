import { systemClock, type Clock } from '../clock.ts'

export interface ConnectionLimitsOptions {
  /** Connections one address may hold open at once. */
  maxPerAddress: number
  /** A refused address is reported at most once per this long while it stays at the cap. */
  reportEveryMs: number
  clock?: Clock
}

export type ConnectionAdmission =
  /** `release` gives the place back: call it when the connection closes; later calls do nothing. */
  | { admitted: true, release: () => void }
  /** `report`: the first refusal of this address in its reporting period, to be logged. */
  | { admitted: false, report: boolean }

interface AddressEntry {
  open: number
  reportedAt: number | undefined
}

/**
 * Counts open connections per client address against a cap. An address is remembered only
 * while it holds a connection, so memory follows the open connections; a refused address
 * always holds some, so its reporting time lives in the same entry.
 */
export class ConnectionLimits {
  readonly #maxPerAddress: number
  readonly #reportEveryMs: number
  readonly #clock: Clock
  readonly #byAddress = new Map<string, AddressEntry>()

  constructor ({ maxPerAddress, reportEveryMs, clock = systemClock }: ConnectionLimitsOptions) {
    this.#maxPerAddress = maxPerAddress
    this.#reportEveryMs = reportEveryMs
    this.#clock = clock
  }

  admit (address: string): ConnectionAdmission {
    const entry = this.#byAddress.get(address) ?? { open: 0, reportedAt: undefined }
    if (entry.open >= this.#maxPerAddress) return { admitted: false, report: this.#dueForReport(entry) }
    entry.open++
    this.#byAddress.set(address, entry)
    let released = false
    return {
      admitted: true,
      release: () => {
        if (released) return
        released = true
        if (--entry.open === 0) this.#byAddress.delete(address)
      }
    }
  }

  /** Addresses holding at least one connection. */
  get addresses (): number {
    return this.#byAddress.size
  }

  #dueForReport (entry: AddressEntry): boolean {
    const now = this.#clock.now()
    if (entry.reportedAt !== undefined && now - entry.reportedAt < this.#reportEveryMs) return false
    entry.reportedAt = now
    return true
  }
}
