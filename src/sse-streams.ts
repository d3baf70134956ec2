import type { Writable } from 'node:stream'
import type { Snapshot } from './public-state.js'

export type SseStream = Pick<Writable, 'write' | 'end' | 'destroy' | 'writableLength' | 'once'>

export interface SseStreamSetOptions {
  /** A stream whose unsent bytes pass this is cut rather than buffered for. */
  maxBufferedBytes: number
  /** The reconnection delay announced to EventSource clients (`retry:`). */
  retryMs: number
}

const KEEPALIVE = Buffer.from(': keepalive\n\n')

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
  readonly #streams = new Set<SseStream>()
  #closed = false

  constructor ({ maxBufferedBytes, retryMs }: SseStreamSetOptions) {
    this.#maxBufferedBytes = maxBufferedBytes
    this.#retry = Buffer.from(`retry: ${Math.round(retryMs)}\n\n`)
  }

  get size (): number {
    return this.#streams.size
  }

  /** Writes the current state and joins in one synchronous step, so no change can fall between the two. */
  add (stream: SseStream, current: Snapshot): void {
    if (this.#closed) {
      stream.end()
      return
    }
    this.#streams.add(stream)
    stream.once('close', () => this.#streams.delete(stream))
    stream.write(this.#retry)
    stream.write(sseEvent(current))
  }

  broadcast (snapshot: Snapshot): void {
    const event = sseEvent(snapshot)
    for (const stream of this.#streams) this.#write(stream, event)
  }

  /** A comment line, so proxies that drop idle connections see traffic. */
  keepalive (): void {
    for (const stream of this.#streams) this.#write(stream, KEEPALIVE)
  }

  /** Ends every stream, and any that joins later, so shutdown does not wait on them. */
  closeAll (): void {
    this.#closed = true
    for (const stream of this.#streams) stream.end()
    this.#streams.clear()
  }

  #write (stream: SseStream, chunk: Buffer): void {
    if (stream.writableLength > this.#maxBufferedBytes) {
      this.#streams.delete(stream)
      stream.destroy()
      return
    }
    stream.write(chunk)
  }
}
