import { once } from 'node:events'
import WebSocket from 'ws'

/** Handshakes in flight at once: enough to connect quickly, few enough for the listen backlog. */
const CONNECT_CONCURRENCY = 200

/** A viewer whose connection fails is counted by what it misses; the error itself needs no handling. */
function ignoreError (): void {}

interface Viewer {
  readonly socket: WebSocket
  received: number
  last: string
}

/** A viewer's message did not arrive within the time allowed. */
export class ChangeNotDelivered extends Error {
  constructor (readonly missing: number) {
    super(`${missing} viewers did not receive the change`)
  }
}

/**
 * Many WebSocket viewers of one server, counting what each receives: when the
 * last of them has a change, and any message missed, repeated or unasked for.
 */
export class Crowd {
  readonly #viewers: Viewer[] = []
  /** Messages every viewer should have by now: the initial state plus one per change. */
  #expected = 1
  #reached = 0
  #duplicated = 0
  #onAllReached: (() => void) | undefined

  get size (): number {
    return this.#viewers.length
  }

  /** Messages that repeated the previous one or came with no change asked for. */
  get duplicated (): number {
    return this.#duplicated
  }

  /** Opens `count` viewers, each counted once it has its initial state. */
  static async connect (port: number, count: number, onProgress: (connected: number) => void): Promise<Crowd> {
    const crowd = new Crowd()
    let started = 0
    const openMore = async (): Promise<void> => {
      while (started < count) {
        started++
        await crowd.#open(`ws://127.0.0.1:${port}/ws/live`)
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
    for (const { socket } of this.#viewers) socket.terminate()
  }

  async #open (url: string): Promise<void> {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    const viewer: Viewer = { socket, received: 0, last: '' }
    socket.on('message', (data) => this.#receive(viewer, data.toString()))
    await once(socket, 'message')
    socket.on('error', ignoreError)
    this.#viewers.push(viewer)
  }

  #receive (viewer: Viewer, text: string): void {
    if (text === viewer.last || viewer.received >= this.#expected) this.#duplicated++
    viewer.last = text
    viewer.received++
    if (viewer.received === this.#expected && ++this.#reached === this.#viewers.length) this.#onAllReached?.()
  }
}
