import WebSocket from 'ws'
import type { PublicState } from '../../src/live/public-state.ts'

/** The widget's backoff, shortened for tests: a random wait below a window that doubles per failure. */
const FIRST_WINDOW_MS = 100
const MAX_WINDOW_MS = 1000
/** WebSocket close code 1001: the server is going away (a restart); the widget comes back at once. */
const GOING_AWAY = 1001

/**
 * A viewer that behaves like the cc-live widget: it reconnects after any drop, with jittered
 * backoff, and never takes a lost connection for offline. It records what a person would see:
 * every state it was sent, whether it went from live to offline, and whether the seq ever went back.
 */
export class ReconnectingViewer {
  readonly url: string
  readonly keep: boolean
  /** Every state received, in order, across connections (only if `keep` was asked for). */
  readonly states: PublicState[] = []
  received = 0
  connections = 0
  last: PublicState | null = null
  /** Shown offline after it had been shown live: what no visitor may see while a session is live. */
  wentOffline = false
  /** A message whose seq was below the last one: what the widget would drop. */
  wentBack = 0
  /** A message within one connection that was not newer than the one before it. */
  repeatedOnConnection = 0
  #socket: WebSocket | null = null
  #window = FIRST_WINDOW_MS
  #stopped = false
  #waiters: Array<{ until: (viewer: ReconnectingViewer) => boolean, resolve: () => void }> = []

  constructor (url: string, keep = false) {
    this.url = url
    this.keep = keep
    this.#connect()
  }

  /** Resolves once `until` holds, checked at every message and connection. */
  async when (until: (viewer: ReconnectingViewer) => boolean): Promise<void> {
    if (until(this)) return
    await new Promise<void>((resolve) => this.#waiters.push({ until, resolve }))
  }

  get open (): boolean {
    return this.#socket?.readyState === WebSocket.OPEN
  }

  close (): void {
    this.#stopped = true
    this.#socket?.close()
  }

  #connect (): void {
    const socket = new WebSocket(this.url, { perMessageDeflate: false })
    this.#socket = socket
    let previousOnThisConnection: number | null = null
    socket.on('open', () => {
      this.connections++
      this.#check()
    })
    socket.on('message', (data: Buffer) => {
      const state = JSON.parse(data.toString()) as PublicState
      this.received++
      if (this.keep) this.states.push(state)
      if (!state.active && this.last?.active === true) this.wentOffline = true
      if (this.last !== null && state.seq < this.last.seq) this.wentBack++
      if (previousOnThisConnection !== null && state.seq <= previousOnThisConnection) this.repeatedOnConnection++
      previousOnThisConnection = state.seq
      // A connection that delivered something resets the backoff, as the widget's does after 10 s.
      this.#window = FIRST_WINDOW_MS
      if (this.last === null || state.seq >= this.last.seq) this.last = state
      this.#check()
    })
    socket.on('error', () => {})
    socket.on('close', (code) => {
      if (this.#stopped) return
      if (code === GOING_AWAY) this.#window = FIRST_WINDOW_MS
      const wait = Math.random() * this.#window
      this.#window = Math.min(this.#window * 2, MAX_WINDOW_MS)
      setTimeout(() => { if (!this.#stopped) this.#connect() }, wait)
    })
  }

  #check (): void {
    this.#waiters = this.#waiters.filter(({ until, resolve }) => {
      if (!until(this)) return true
      resolve()
      return false
    })
  }
}
