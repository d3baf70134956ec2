import type { WebSocket } from 'ws'
import { systemClock, type Clock } from './clock.js'
import type { Snapshot } from './public-state.js'
import type { ViewerLimits } from './viewer-limits.js'

export type ViewerSocket = Pick<WebSocket, 'send' | 'ping' | 'close' | 'terminate' | 'bufferedAmount' | 'once' | 'on'>

/** WebSocket close code 1013 Try Again Later: the server is at its viewer cap. */
export const CLOSE_TRY_AGAIN_LATER = 1013

export interface ViewerSetOptions {
  /** A viewer whose unsent bytes pass this is cut rather than buffered for. */
  maxBufferedBytes: number
  /** The caps, shared with the other transports: a viewer counts once whatever it connects with. */
  limits: ViewerLimits
  /** Viewers only listen: one that sends more frames (messages, pings, pongs) than this in a window is cut. */
  maxFramesPerWindow: number
  frameWindowMs: number
  clock?: Clock
}

interface Viewer {
  readonly address: string
  /** Whether it has answered the last ping. */
  answered: boolean
  frameWindowStart: number
  frames: number
}

/**
 * The open viewers: each gets the current state on joining, then every change.
 * A slow, dead or flooding viewer is cut; none of them ever waits on another.
 */
export class ViewerSet {
  readonly #maxBufferedBytes: number
  readonly #limits: ViewerLimits
  readonly #maxFramesPerWindow: number
  readonly #frameWindowMs: number
  readonly #clock: Clock
  readonly #viewers = new Map<ViewerSocket, Viewer>()
  // Shared listeners, so a viewer costs a map entry and not a closure per event.
  readonly #onFrame: (this: ViewerSocket) => void
  readonly #onPong: (this: ViewerSocket) => void
  readonly #onClose: (this: ViewerSocket) => void

  constructor ({ maxBufferedBytes, limits, maxFramesPerWindow, frameWindowMs, clock = systemClock }: ViewerSetOptions) {
    this.#maxBufferedBytes = maxBufferedBytes
    this.#limits = limits
    this.#maxFramesPerWindow = maxFramesPerWindow
    this.#frameWindowMs = frameWindowMs
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
   * Sends the snapshot and joins in one synchronous step, so no change can fall
   * between the two. Over a cap, closes the socket with 1013 instead.
   */
  add (socket: ViewerSocket, current: Snapshot, address: string): boolean {
    if (!this.#limits.admits(address)) {
      socket.close(CLOSE_TRY_AGAIN_LATER, 'too many viewers')
      return false
    }
    this.#limits.add(address)
    this.#viewers.set(socket, { address, answered: true, frameWindowStart: this.#clock.now(), frames: 0 })
    socket.on('message', this.#onFrame)
    socket.on('ping', this.#onFrame)
    socket.on('pong', this.#onPong)
    socket.once('close', this.#onClose)
    this.#send(socket, Buffer.from(current.json))
    return true
  }

  broadcast (snapshot: Snapshot): void {
    const frame = Buffer.from(snapshot.json)
    for (const socket of this.#viewers.keys()) this.#send(socket, frame)
  }

  /** One keepalive round: cut viewers that missed the previous ping, ping the rest. */
  sweep (): void {
    for (const [socket, viewer] of this.#viewers) {
      if (!viewer.answered) {
        this.#cut(socket)
        continue
      }
      viewer.answered = false
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
    this.#limits.remove(viewer.address)
  }
}
