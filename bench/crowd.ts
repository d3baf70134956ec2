import { once } from 'node:events'
import { get, type IncomingMessage } from 'node:http'
import WebSocket from 'ws'

/** How the crowd's viewers connect: WebSocket, or Server-Sent Events as the widget's fallback does. */
export type Transport = 'websocket' | 'sse'

/** Handshakes in flight at once: enough to connect quickly, few enough for the listen backlog. */
const CONNECT_CONCURRENCY = 200

/** A viewer whose connection fails is counted by what it misses; the error itself needs no handling. */
function ignoreError (): void {}

interface Viewer {
  readonly close: () => void
  received: number
  last: string
}

/** A viewer's message did not arrive within the time allowed. */
export class ChangeNotDelivered extends Error {
  readonly missing: number

  constructor (missing: number) {
    super(`${missing} viewers did not receive the change`)
    this.missing = missing
  }
}

/**
 * Many viewers of one server, counting what each receives: when the last of them
 * has a change, and any message missed, repeated or unasked for.
 */
export class Crowd {
  readonly #viewers: Viewer[] = []
  /** Messages every viewer should have by now: the initial state plus one per change. */
  #expected = 1
  #reached = 0
  #firstReachedAt = NaN
  #duplicated = 0
  #onAllReached: (() => void) | undefined

  get size (): number {
    return this.#viewers.length
  }

  /** performance.now() when the first viewer had the latest change. */
  get firstReachedAt (): number {
    return this.#firstReachedAt
  }

  /** Messages that repeated the previous one or came with no change asked for. */
  get duplicated (): number {
    return this.#duplicated
  }

  /** Opens `count` viewers, each counted once it has its initial state. */
  static async connect (port: number, count: number, transport: Transport, onProgress: (connected: number) => void): Promise<Crowd> {
    const crowd = new Crowd()
    let started = 0
    const open = transport === 'websocket' ? () => crowd.#openWebSocket(port) : () => crowd.#openEventStream(port)
    const openMore = async (): Promise<void> => {
      while (started < count) {
        started++
        await open()
        onProgress(crowd.size)
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, openMore))
    } catch (error) {
      crowd.close()
      throw error
    }
    return crowd
  }

  /**
   * Call before causing a change: resolves with performance.now() at the moment
   * the last viewer has received it, or rejects with ChangeNotDelivered after timeoutMs.
   */
  async nextChange (timeoutMs: number): Promise<number> {
    this.#expected++
    this.#reached = 0
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onAllReached = undefined
        reject(new ChangeNotDelivered(this.#viewers.filter((viewer) => viewer.received < this.#expected).length))
      }, timeoutMs)
      this.#onAllReached = () => {
        clearTimeout(timer)
        this.#onAllReached = undefined
        resolve(performance.now())
      }
    })
  }

  /** Viewers whose latest message is not the expected state: each of them missed it. */
  notHaving (expected: (state: string) => boolean): number {
    return this.#viewers.filter((viewer) => !expected(viewer.last)).length
  }

  close (): void {
    for (const viewer of this.#viewers) viewer.close()
  }

  async #openWebSocket (port: number): Promise<void> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/live`, { perMessageDeflate: false })
    const viewer: Viewer = { close: () => socket.terminate(), received: 0, last: '' }
    socket.on('message', (data) => this.#receive(viewer, data.toString()))
    await once(socket, 'message')
    socket.on('error', ignoreError)
    this.#viewers.push(viewer)
  }

  /** An event stream on its own connection; each `data:` line is one state, as for a WebSocket message. */
  async #openEventStream (port: number): Promise<void> {
    const request = get({ host: '127.0.0.1', port, path: '/ws/live', headers: { accept: 'text/event-stream' }, agent: false })
    const viewer: Viewer = { close: () => request.destroy(), received: 0, last: '' }
    request.on('error', ignoreError)
    const [response] = await once(request, 'response') as [IncomingMessage]
    response.setEncoding('utf8')
    let buffered = ''
    const first = once(response, 'data')
    response.on('data', (chunk: string) => {
      buffered += chunk
      for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
        const data = /^data: (.*)$/m.exec(buffered.slice(0, end))?.[1]
        buffered = buffered.slice(end + 2)
        if (data !== undefined) this.#receive(viewer, data)
      }
    })
    await first
    this.#viewers.push(viewer)
  }

  #receive (viewer: Viewer, text: string): void {
    if (text === viewer.last || viewer.received >= this.#expected) this.#duplicated++
    viewer.last = text
    viewer.received++
    if (viewer.received !== this.#expected) return
    if (++this.#reached === 1) this.#firstReachedAt = performance.now()
    if (this.#reached === this.#viewers.length) this.#onAllReached?.()
  }
}
