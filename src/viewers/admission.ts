import type { ErrorCode } from '../errors.ts'

export interface ViewerAdmissionOptions {
  maxViewers: number
  maxViewersPerAddress: number
  /** Origins whose pages may subscribe; null: any. */
  allowedOrigins: ReadonlySet<string> | null
}

export type ViewerRefusal = Extract<ErrorCode, 'CC_LIVE_ORIGIN_NOT_ALLOWED' | 'CC_LIVE_TOO_MANY_VIEWERS'>

/** A viewer's place: `release` gives it back; calling it again does nothing. */
export type Admission = { release: () => void, refusal?: undefined } | { refusal: ViewerRefusal, release?: undefined }

/**
 * Who may become a viewer, over every transport alike: pages from allowed origins, while the caps
 * on viewers in all and per client address have room. A place is taken only by admit() and given
 * back only by the release function it returns, once, so the counts cannot drift.
 *
 * A request without an Origin header is not from a browser page and is let through: the allow-list
 * keeps other sites' pages out, it does not authenticate anyone.
 */
export class ViewerAdmission {
  readonly #options: ViewerAdmissionOptions
  readonly #perAddress = new Map<string, number>()
  #total = 0

  constructor (options: ViewerAdmissionOptions) {
    this.#options = options
  }

  /** Why a viewer from here would be refused now; null if it would be let in. Takes nothing. */
  refusal (address: string, origin: string | undefined): ViewerRefusal | null {
    return this.#refusal(address, origin)
  }

  /** Takes a place for a viewer, or says why not. */
  admit (address: string, origin: string | undefined): Admission {
    const refusal = this.#refusal(address, origin)
    if (refusal !== null) return { refusal }
    this.#total++
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1)
    let held = true
    return {
      release: () => {
        if (!held) return
        held = false
        this.#total--
        const left = (this.#perAddress.get(address) ?? 0) - 1
        if (left > 0) this.#perAddress.set(address, left)
        else this.#perAddress.delete(address)
      }
    }
  }

  #refusal (address: string, origin: string | undefined): ViewerRefusal | null {
    const { allowedOrigins, maxViewers, maxViewersPerAddress } = this.#options
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.has(origin)) return 'CC_LIVE_ORIGIN_NOT_ALLOWED'
    if (this.#total >= maxViewers || (this.#perAddress.get(address) ?? 0) >= maxViewersPerAddress) return 'CC_LIVE_TOO_MANY_VIEWERS'
    return null
  }

  /** Places taken. */
  get viewers (): number {
    return this.#total
  }

  /** Addresses holding at least one place: an entry goes with its last place. */
  get addresses (): number {
    return this.#perAddress.size
  }
}
