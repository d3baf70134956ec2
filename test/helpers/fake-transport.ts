/** One connection opened through a FakeTransport, driven by the test. */
export interface FakeConnection {
  readonly url: string
  closed: boolean
  /** Delivers a message; `fresh` as the poll transport says it: a new request, unordered with the last. */
  send (text: string, fresh?: boolean): void
  /** The transport stops working, as the browser would report it. */
  end (code?: number): void
}

/** A transport for the browser client's unit tests: records each connection and lets the test play the server. */
export class FakeTransport {
  readonly #connections: FakeConnection[] = []
  readonly #waiting = new Map<number, (connection: FakeConnection) => void>()

  get opened (): number {
    return this.#connections.length
  }

  readonly open = (url: string, onText: (text: string, fresh?: boolean) => void, onEnd: (code?: number) => void): () => void => {
    const connection: FakeConnection = {
      url,
      closed: false,
      send: (text, fresh) => onText(text, fresh),
      end: (code) => onEnd(code)
    }
    this.#connections.push(connection)
    this.#waiting.get(this.#connections.length - 1)?.(connection)
    return () => { connection.closed = true }
  }

  /** The index-th connection, once the client has opened it. */
  connection (index: number): Promise<FakeConnection> {
    const existing = this.#connections[index]
    if (existing) return Promise.resolve(existing)
    return new Promise((resolve) => this.#waiting.set(index, resolve))
  }
}
