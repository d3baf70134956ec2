export interface ViewerLimitsOptions {
  maxViewers: number
  maxViewersPerAddress: number
}

/** Counts open viewers, in all and per client address, against their caps. */
export class ViewerLimits {
  readonly #maxViewers: number
  readonly #maxViewersPerAddress: number
  readonly #perAddress = new Map<string, number>()
  #total = 0

  constructor ({ maxViewers, maxViewersPerAddress }: ViewerLimitsOptions) {
    this.#maxViewers = maxViewers
    this.#maxViewersPerAddress = maxViewersPerAddress
  }

  /** Whether one more viewer from this address fits under both caps. */
  admits (address: string): boolean {
    return this.#total < this.#maxViewers && (this.#perAddress.get(address) ?? 0) < this.#maxViewersPerAddress
  }

  add (address: string): void {
    this.#total++
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1)
  }

  remove (address: string): void {
    this.#total--
    const left = (this.#perAddress.get(address) ?? 0) - 1
    if (left > 0) this.#perAddress.set(address, left)
    else this.#perAddress.delete(address)
  }

  /** Addresses with at least one viewer: entries are dropped as their last viewer leaves. */
  get addresses (): number {
    return this.#perAddress.size
  }
}
