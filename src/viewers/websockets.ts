import type { WebSocket } from 'ws'
import { systemClock, type Clock } from '../clock.ts'
import type { Snapshot } from '../live/public-state.ts'
import type { ViewerTransport } from './feed.ts'

export type ViewerSocket = Pick<WebSocket, 'send' | 'ping' | 'close' | 'terminate' | 'bufferedAmount' | 'once' | 'on'>

/** WebSocket close code 1013 Try Again Later: the server is at its viewer cap. */
export const CLOSE_TRY_AGAIN_LATER = 1013
/** WebSocket close code 1001 Going Away: the server is shutting down; browsers reconnect. */
export const CLOSE_GOING_AWAY = 1001

export interface ViewerSetOptions {
  /** A viewer whose unsent bytes pass this is cut rather than buffered for. */
  maxBufferedBytes: number
  /** Viewers only listen: one that sends more frames (messages, pings, pongs) than this in a window is cut. */
  maxFramesPerWindow: number
  frameWindowMs: number
  /** Viewers that do not finish the closing handshake within this at shutdown are cut. */
  closeTimeoutMs: number
  clock?: Clock
}

interface Viewer {
  /** Gives the viewer's place back (see ViewerAdmission). */
  readonly release: () => void
  /** Whether it has answered the last ping. */
  answered: boolean
  frameWindowStart: number
  frames: number
}

/**
 * The open viewers: each gets the current state on joining, then every change.
 * A slow, dead or flooding viewer is cut; none of them ever waits on another.
 */
export class ViewerSet implements ViewerTransport {
  readonly #maxBufferedBytes: number
  readonly #maxFramesPerWindow: number
  readonly #frameWindowMs: number
  readonly #closeTimeoutMs: number
  readonly #clock: Clock
  readonly #viewers = new Map<ViewerSocket, Viewer>()
  // Shared listeners, so a viewer costs a map entry and not a closure per event.
  readonly #onFrame: (this: ViewerSocket) => void
  readonly #onPong: (this: ViewerSocket) => void
  readonly #onClose: (this: ViewerSocket) => void

  constructor ({ maxBufferedBytes, maxFramesPerWindow, frameWindowMs, closeTimeoutMs, clock = systemClock }: ViewerSetOptions) {
    this.#maxBufferedBytes = maxBufferedBytes
    this.#maxFramesPerWindow = maxFramesPerWindow
    this.#frameWindowMs = frameWindowMs
    this.#closeTimeoutMs = closeTimeoutMs
    this.#clock = clock
    const viewers = this.#viewers
    const countFrame = (socket: ViewerSocket) => this.#countFrame(socket)
    const remove = (socket: ViewerSocket) => this.#remove(socket)
    this.#onFrame = function () { countFrame(this) }
    this.#onPong = function () {
      const viewer = viewers.get(this)
      if (viewer !== undefined) viewer.answered = true
      countFrame(this)
    }
    this.#onClose = function () { remove(this) }
  }

  get size (): number {
    return this.#viewers.size
  }

  /**
   * Sends the snapshot and joins in one synchronous step, so no change can fall between the two.
   * `release` is called once, when the viewer leaves or is cut.
   */
  add (socket: ViewerSocket, current: Snapshot, release: () => void): void {
    this.#viewers.set(socket, { release, answered: true, frameWindowStart: this.#clock.now(), frames: 0 })
    socket.on('message', this.#onFrame)
    socket.on('ping', this.#onFrame)
    socket.on('pong', this.#onPong)
    socket.once('close', this.#onClose)
    this.#send(socket, Buffer.from(current.json))
  }

  broadcast (snapshot: Snapshot): void {
    const frame = Buffer.from(snapshot.json)
    for (const socket of this.#viewers.keys()) this.#send(socket, frame)
  }

  /** One keepalive round: cut viewers that missed the previous ping, ping the rest. */
  keepalive (): void {
    for (const [socket, viewer] of this.#viewers) {
      if (!viewer.answered) {
        this.#cut(socket)
        continue
      }
      viewer.answered = false
      socket.ping()
    }
  }

  /** Closes every viewer with 1001 Going Away; those that do not finish the handshake in time are cut. */
  async closeAll (): Promise<void> {
    const sockets = [...this.#viewers.keys()]
    const closed = sockets.map((socket) => new Promise((resolve) => {
      socket.once('close', resolve)
      socket.close(CLOSE_GOING_AWAY, 'server shutting down')
    }))
    const deadline = setTimeout(() => { for (const socket of sockets) socket.terminate() }, this.#closeTimeoutMs)
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

  #countFrame (socket: ViewerSocket): void {
    const viewer = this.#viewers.get(socket)
    if (viewer === undefined) return
    const now = this.#clock.now()
    if (now - viewer.frameWindowStart >= this.#frameWindowMs) {
      viewer.frameWindowStart = now
      viewer.frames = 0
    }
    if (++viewer.frames > this.#maxFramesPerWindow) this.#cut(socket)
  }

  #cut (socket: ViewerSocket): void {
    this.#remove(socket)
    socket.terminate()
  }

  #remove (socket: ViewerSocket): void {
    const viewer = this.#viewers.get(socket)
    if (viewer === undefined) return
    this.#viewers.delete(socket)
    viewer.release()
  }
}
