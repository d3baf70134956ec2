/**
 * A load process: holds the viewers of one server and changes that server's
 * state when the bench asks, timing each change from the request to the last
 * viewer having it. Forked by bench/measure.ts, one per server under test, so
 * no server shares a process (or an event loop) with its load.
 */
import { ChangeNotDelivered, Crowd, type Transport } from './crowd.ts'
import { SESSION, serverRequest } from './servers.ts'

export type LoadCommand =
  | { type: 'connect', port: number, viewers: number, transport: Transport }
  | { type: 'flip' }
  | { type: 'expiry', ttlSeconds: number }
  | { type: 'counts' }
  /** For changes caused elsewhere (another process, another replica): expect the next one... */
  | { type: 'arm' }
  /** ...and say when this crowd's first and last viewers had it, and how many do not hold `expected`. */
  | { type: 'delivered', expected: string }

export type LoadMessage =
  | { type: 'progress', connected: number }
  | { type: 'result', value: number | LoadCounts | Delivery | null }
  | { type: 'error', message: string }

export interface LoadCounts {
  missed: number
  duplicated: number
}

/** Wall-clock ms (performance.timeOrigin + performance.now()), comparable across processes. */
export interface Delivery {
  firstAt: number
  lastAt: number
  missed: number
}

/** Longer than any fan-out could honestly take: past it, the viewers still waiting missed the change. */
const DELIVERY_TIMEOUT_MS = 15_000

class Load {
  readonly #port: number
  readonly #crowd: Crowd
  #active = false
  #missed = 0
  /** Set once a change went undelivered: the count of what each viewer should have no longer holds. */
  #broken = false

  constructor (port: number, crowd: Crowd) {
    this.#port = port
    this.#crowd = crowd
  }

  /** Heartbeat or stop, whichever changes the state: ms from the request until every viewer has the answer's state. */
  async flip (): Promise<number> {
    return this.#measure(async () => {
      const delivered = this.#crowd.nextChange(DELIVERY_TIMEOUT_MS)
      const sentAt = performance.now()
      const [deliveredAt, answer] = await Promise.all([delivered, serverRequest(this.#port, 'POST', `/api/live/${this.#active ? 'stop' : 'heartbeat'}`, SESSION)])
      this.#active = !this.#active
      this.#missed += this.#crowd.notHaving((state) => state === answer.body)
      return deliveredAt - sentAt
    })
  }

  /** One heartbeat left to expire: ms past its deadline until every viewer has `active:false`. */
  async expiry (ttlSeconds: number): Promise<number> {
    if (this.#active) await this.flip()
    const sentAt = performance.now()
    await this.flip()
    return this.#measure(async () => {
      const expiredAt = await this.#crowd.nextChange(ttlSeconds * 1000 + DELIVERY_TIMEOUT_MS)
      this.#active = false
      this.#missed += this.#crowd.notHaving((state) => !state.includes('"active":true'))
      // From when the heartbeat was sent, so lateness is overstated by its latency, never understated.
      return expiredAt - (sentAt + ttlSeconds * 1000)
    })
  }

  counts (): LoadCounts {
    return { missed: this.#missed, duplicated: this.#crowd.duplicated }
  }

  #armed: Promise<number> | undefined

  arm (): void {
    this.#armed = this.#crowd.nextChange(DELIVERY_TIMEOUT_MS)
  }

  async delivered (expected: string): Promise<Delivery> {
    if (this.#armed === undefined) throw new Error('delivered before arm')
    const lastReachedAt = await this.#armed
    this.#armed = undefined
    const missed = this.#crowd.notHaving((state) => state === expected)
    this.#missed += missed
    return { firstAt: performance.timeOrigin + this.#crowd.firstReachedAt, lastAt: performance.timeOrigin + lastReachedAt, missed }
  }

  async #measure (change: () => Promise<number>): Promise<number> {
    if (this.#broken) return NaN
    try {
      return await change()
    } catch (error) {
      if (!(error instanceof ChangeNotDelivered)) throw error
      this.#broken = true
      this.#missed += error.missing
      return NaN
    }
  }
}

let load: Load | undefined

async function run (command: LoadCommand): Promise<number | LoadCounts | Delivery | null> {
  if (command.type === 'connect') {
    const every = Math.max(1, Math.round(command.viewers / 100))
    const crowd = await Crowd.connect(command.port, command.viewers, command.transport, (connected) => {
      if (connected % every === 0 || connected === command.viewers) send({ type: 'progress', connected })
    })
    load = new Load(command.port, crowd)
    return null
  }
  if (load === undefined) throw new Error(`${command.type} before connect`)
  if (command.type === 'flip') return load.flip()
  if (command.type === 'expiry') return load.expiry(command.ttlSeconds)
  if (command.type === 'arm') {
    load.arm()
    return null
  }
  if (command.type === 'delivered') return load.delivered(command.expected)
  return load.counts()
}

function send (message: LoadMessage): void {
  process.send?.(message)
}

process.on('message', (command: LoadCommand) => {
  run(command).then(
    (value) => send({ type: 'result', value }),
    (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) }))
})
