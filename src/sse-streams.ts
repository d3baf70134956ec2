import type { Writable } from 'node:stream'
import type { Snapshot } from './public-state.js'
import type { ViewerLimits } from './viewer-limits.js'

export type SseStream = Pick<Writable, 'write' | 'end' | 'destroy' | 'writableLength' | 'once'>

export interface SseStreamSetOptions {
  /** A stream whose unsent bytes pass this is cut rather than buffered for. */
  maxBufferedBytes: number
  /** The reconnection delay announced to EventSource clients (`retry:`). */
  retryMs: number
  /** The caps, shared with the WebSocket viewers. */
  limits: ViewerLimits
}

const KEEPALIVE = Buffer.from(': keepalive\n\n')

/** Whether a request asks for the event stream rather than the JSON snapshot. */
export function wantsEventStream (accept: string | undefined): boolean {
  return accept?.includes('text/event-stream') === true
}

/** The state as one SSE event: the snapshot's JSON, not a second serialization. */
export function sseEvent (snapshot: Snapshot): Buffer {
  return Buffer.from(`data: ${snapshot.json}\n\n`)
}

/**
 * The open Server-Sent Events streams, for viewers whose WebSocket cannot get through.
 * The same contract as the WebSocket viewer set: the current state on joining, then every change.
 */
export class SseStreamSet {
  readonly #maxBufferedBytes: number
  readonly #retry: Buffer
  readonly #limits: ViewerLimits
  /** stream → its client's address */
  readonly #streams = new Map<SseStream, string>()
  #closed = false

  constructor ({ maxBufferedBytes, retryMs, limits }: SseStreamSetOptions) {
    this.#maxBufferedBytes = maxBufferedBytes
    this.#retry = Buffer.from(`retry: ${Math.round(retryMs)}\n\n`)
    this.#limits = limits
  }

  get size (): number {
    return this.#streams.size
  }

  /**
   * Writes the current state and joins in one synchronous step, so no change can fall between the
   * two. Returns false, leaving the stream alone, when a cap is reached.
   */
  add (stream: SseStream, current: Snapshot, address: string): boolean {
    if (!this.#limits.admits(address)) return false
    if (this.#closed) {
      stream.end()
      return true
    }
    this.#limits.add(address)
    this.#streams.set(stream, address)
    stream.once('close', () => this.#remove(stream))
    stream.write(this.#retry)
    stream.write(sseEvent(current))
    return true
  }

  broadcast (snapshot: Snapshot): void {
    const event = sseEvent(snapshot)
    for (const stream of this.#streams.keys()) this.#write(stream, event)
  }

  /** A comment line, so proxies that drop idle connections see traffic. */
  keepalive (): void {
    for (const stream of this.#streams.keys()) this.#write(stream, KEEPALIVE)
  }

  /** Ends every stream, and any that joins later, so shutdown does not wait on them. */
  closeAll (): void {
    this.#closed = true
    for (const stream of [...this.#streams.keys()]) {
      this.#remove(stream)
      stream.end()
    }
  }

  #write (stream: SseStream, chunk: Buffer): void {
    if (stream.writableLength > this.#maxBufferedBytes) {
      this.#remove(stream)
      stream.destroy()
      return
    }
    stream.write(chunk)
  }

  #remove (stream: SseStream): void {
    const address = this.#streams.get(stream)
    if (address === undefined) return
    this.#streams.delete(stream)
    this.#limits.remove(address)
  }
}
