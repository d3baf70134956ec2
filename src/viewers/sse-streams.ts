import type { Writable } from 'node:stream'
import type { Snapshot } from '../live/public-state.ts'
import type { ViewerTransport } from './feed.ts'

/** What the set needs of a stream: the socket taken over from node:http (or, failing that, the raw response) in the service, a PassThrough in unit tests. */
export type SseStream = Pick<Writable, 'write' | 'end' | 'destroy' | 'writableLength' | 'once' | 'closed'>

/** What ends a stream: the connection it is written to, closing. */
export type SseConnection = Pick<Writable, 'once' | 'closed'>

export interface SseStreamSetOptions {
  /** A stream whose unsent bytes pass this is cut rather than buffered for. */
  maxBufferedBytes: number
  /** The reconnection delay announced to EventSource clients (`retry:`). */
  retryMs: number
}

const KEEPALIVE = Buffer.from(': keepalive\n\n')

/** Whether a request asks for the event stream rather than the JSON snapshot. */
export function wantsEventStream (accept: string | undefined): boolean {
  return accept?.includes('text/event-stream') === true
}

/**
 * The state as one SSE event, its seq as the event id: the snapshot's JSON, not a second
 * serialization. A client reconnecting with Last-Event-ID gets the current state at once anyway.
 */
export function sseEvent (snapshot: Snapshot): Buffer {
  return Buffer.from(`id: ${snapshot.state.seq}\ndata: ${snapshot.json}\n\n`)
}

/**
 * The open Server-Sent Events streams, for viewers whose WebSocket cannot get through.
 * The same contract as the WebSocket viewer set: the current state on joining, then every change.
 */
export class SseStreamSet implements ViewerTransport {
  readonly #maxBufferedBytes: number
  readonly #retry: Buffer
  /** stream → the function that gives its place back */
  readonly #streams = new Map<SseStream, () => void>()
  #closed = false

  constructor ({ maxBufferedBytes, retryMs }: SseStreamSetOptions) {
    this.#maxBufferedBytes = maxBufferedBytes
    this.#retry = Buffer.from(`retry: ${Math.round(retryMs)}\n\n`)
  }

  get size (): number {
    return this.#streams.size
  }

  /**
   * Writes the current state and joins in one synchronous step, so no change can fall between the
   * two. `release` is called once, when the stream's connection closes or the stream is cut.
   *
   * The connection, not the stream, says when it ended: a response queued behind another on a
   * pipelined connection hears nothing of the connection closing, and would hold its place for ever.
   */
  add (stream: SseStream, current: Snapshot, release: () => void, connection: SseConnection = stream): void {
    if (this.#closed || connection.closed) {
      release()
      stream.end()
      return
    }
    this.#streams.set(stream, release)
    connection.once('close', () => this.#remove(stream))
    stream.write(this.#retry)
    stream.write(sseEvent(current))
  }

  broadcast (snapshot: Snapshot): void {
    const event = sseEvent(snapshot)
    for (const stream of this.#streams.keys()) this.#write(stream, event)
  }

  /** A comment line, so proxies that drop idle connections see traffic. */
  keepalive (): void {
    for (const stream of this.#streams.keys()) this.#write(stream, KEEPALIVE)
  }

  async closeAll (): Promise<void> {
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
    const release = this.#streams.get(stream)
    if (release === undefined) return
    this.#streams.delete(stream)
    release()
  }
}
