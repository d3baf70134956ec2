import type { WebSocket } from 'ws'
import type { Snapshot } from './public-state.js'

export type ViewerSocket = Pick<WebSocket, 'send' | 'ping' | 'close' | 'terminate' | 'bufferedAmount' | 'once' | 'on'>

export interface ViewerSetOptions {
  /** A viewer whose unsent bytes pass this is cut rather than buffered for. */
  maxBufferedBytes: number
}

/**
 * The open viewers: each gets the current state on joining, then every change.
 * A slow or dead viewer is cut; none of them ever waits on another.
 */
export class ViewerSet {
  readonly #maxBufferedBytes: number
  /** socket → whether it has answered the last ping */
  readonly #viewers = new Map<ViewerSocket, boolean>()
  // Shared listeners, so a viewer costs a map entry and not a closure per event.
  readonly #onPong: (this: ViewerSocket) => void
  readonly #onClose: (this: ViewerSocket) => void

  constructor ({ maxBufferedBytes }: ViewerSetOptions) {
    this.#maxBufferedBytes = maxBufferedBytes
    const viewers = this.#viewers
    this.#onPong = function () { if (viewers.has(this)) viewers.set(this, true) }
    this.#onClose = function () { viewers.delete(this) }
  }

  get size (): number {
    return this.#viewers.size
  }

  /** Sends the snapshot and joins in one synchronous step, so no change can fall between the two. */
  add (socket: ViewerSocket, current: Snapshot): void {
    this.#viewers.set(socket, true)
    socket.on('pong', this.#onPong)
    socket.once('close', this.#onClose)
    this.#send(socket, Buffer.from(current.json))
  }

  broadcast (snapshot: Snapshot): void {
    const frame = Buffer.from(snapshot.json)
    for (const socket of this.#viewers.keys()) this.#send(socket, frame)
  }

  /** One keepalive round: cut viewers that missed the previous ping, ping the rest. */
  sweep (): void {
    for (const [socket, answered] of this.#viewers) {
      if (!answered) {
        this.#cut(socket)
        continue
      }
      this.#viewers.set(socket, false)
      socket.ping()
    }
  }

  /** Closes every viewer with `code`; those that do not finish the handshake within `timeoutMs` are cut. */
  async closeAll (code: number, reason: string, timeoutMs: number): Promise<void> {
    const sockets = [...this.#viewers.keys()]
    const closed = sockets.map((socket) => new Promise((resolve) => {
      socket.once('close', resolve)
      socket.close(code, reason)
    }))
    const deadline = setTimeout(() => { for (const socket of sockets) socket.terminate() }, timeoutMs)
    await Promise.all(closed)
    clearTimeout(deadline)
  }

  #send (socket: ViewerSocket, frame: Buffer): void {
    if (socket.bufferedAmount > this.#maxBufferedBytes) {
      this.#cut(socket)
      return
    }
    socket.send(frame, { binary: false })
  }

  #cut (socket: ViewerSocket): void {
    this.#viewers.delete(socket)
    socket.terminate()
  }
}
