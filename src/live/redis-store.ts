import { randomUUID } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { systemClock, type Clock, type Timer } from '../clock.ts'
import { unavailableOr } from '../redis/errors.ts'
import { INITIAL, type PublicState, type Snapshot } from './public-state.ts'
import { LiveSessions, type HeldState, type LiveSessionsOptions, type Moment, type StoreRecord } from './sessions.ts'
import { StoreUnavailableError, subscribe, type Heartbeat, type HeartbeatResult, type LiveStore, type SessionEvent } from './store.ts'

/**
 * One read of the shared state, with the server's time: one clock for every replica, so no
 * replica's own clock (stepped, drifting) can extend or cut a session.
 */
const READ_STATE = `
local time = redis.call('TIME')
local state = redis.call('HMGET', KEYS[1], 'version', 'record')
return { time[1], time[2], state[1], state[2] }`

/**
 * Commits a step computed from the state read as ARGV[1] (empty: there was none), only if no
 * other step has committed since; adds its session events (ARGV[5], a JSON array; empty: none) to
 * the log the history is recorded from, keeping about its last ARGV[6] entries; publishes the new
 * public state when there is one. Each write gets a fresh random version, so a state written again
 * after a restart can never be taken for the one read before it. KEYS: state, channel, log.
 */
const COMMIT_STEP = `
if (redis.call('HGET', KEYS[1], 'version') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'record', ARGV[3])
if ARGV[5] ~= '' then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'events', ARGV[5]) end
if ARGV[4] ~= '' then redis.call('PUBLISH', KEYS[2], ARGV[4]) end
return 1`

/**
 * Entries the session log keeps, about (Redis trims whole blocks): far more than any recorder lags
 * behind, a few MB at most; what it lost would be reconciled with the live state.
 */
export const SESSION_LOG_LENGTH = 10_000

/** The shared state's keys and channel under a deployment's prefix. */
export function liveStateKeys (prefix: string) {
  return {
    /** version and record (the StoredState JSON). */
    state: `${prefix}state`,
    /** Each public change, with the time to the earliest deadline. */
    changes: `${prefix}changes`,
    /** A stream: each step's session events, in commit order, for the history. */
    sessionLog: `${prefix}session-events`
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ccLiveReadState (stateKey: string): Result<[number, number, string | null, string | null], Context>
    ccLiveCommitStep (stateKey: string, channel: string, log: string, readVersion: string, version: string, record: string, message: string, events: string, logLength: number): Result<0 | 1, Context>
  }
}

/** Steps that keep losing to others this many times in a row give up with a 503. */
const MAX_ATTEMPTS = 50

export interface RedisLiveStoreOptions extends Omit<LiveSessionsOptions, 'tell'> {
  /** The command connection, opened and closed by its owner; the store makes its own subscriber from it. */
  redis: Redis
  /** Before the state's key and the channel. */
  prefix: string
  /** Arms this replica's expiry timer. */
  clock?: Clock
  /** The time every replica agrees on, ms since the epoch; the Redis server's TIME unless a test moves it. */
  sharedClock?: () => number
  /** Adds each step's session events to the shared log the history is recorded from. */
  logSessionEvents?: boolean
}

interface SharedState {
  /** Null: the server holds no state (first start, or it lost its data). */
  readonly version: string | null
  readonly stored: string | null
  readonly timeMs: number
}

interface StoredState {
  readonly record: StoreRecord
  readonly held: HeldState | null
}

type Listener<Value> = (value: Value) => void

/**
 * The live state shared by replicas through Redis (or Valkey), behind the same interface as the
 * process store. Each mutation is one step: read the state and the server's time, run the same
 * domain rules (LiveSessions) on them, then commit with a script that writes only if no other
 * step committed meanwhile (else the step runs again) and publishes the new public state with
 * its seq. So each change is published once, by the replica whose step made it, which also tells
 * its session events, and adds them to the log the history is recorded from, in the same script.
 *
 * Every replica subscribes and passes on to its viewers only what is newer than what it passed
 * on last; on each (re)subscription it reads the state again. Each arms a timer for the earliest
 * deadline it knows; when several fire, one commits the expiry and the others find nothing to do.
 */
export class RedisLiveStore implements LiveStore {
  readonly #options: Omit<LiveSessionsOptions, 'tell'>
  readonly #redis: Redis
  readonly #subscriber: Redis
  readonly #keys: ReturnType<typeof liveStateKeys>
  readonly #logSessionEvents: boolean
  readonly #clock: Clock
  readonly #sharedClock: (() => number) | undefined
  readonly #listeners = new Set<Listener<Snapshot>>()
  readonly #eventListeners = new Set<Listener<SessionEvent>>()
  readonly #availabilityListeners = new Set<Listener<boolean>>()
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #detach: Array<() => void> = []
  #snapshot: Snapshot = INITIAL
  #commandUp: boolean
  #subscriberUp = false
  #available = false
  /** The subscription and the read that follows it, as last begun. */
  #resyncing: Promise<void> = Promise.resolve()
  #timer: Timer | null = null
  #timerTarget = Infinity
  #closed = false

  constructor ({ redis, prefix, clock = systemClock, sharedClock, logSessionEvents = false, ...options }: RedisLiveStoreOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be a positive number')
    this.#options = options
    this.#redis = redis
    this.#keys = liveStateKeys(prefix)
    this.#logSessionEvents = logSessionEvents
    this.#clock = clock
    this.#sharedClock = sharedClock
    redis.defineCommand('ccLiveReadState', { numberOfKeys: 1, lua: READ_STATE, readOnly: true })
    redis.defineCommand('ccLiveCommitStep', { numberOfKeys: 3, lua: COMMIT_STEP })
    this.#commandUp = redis.status === 'ready'
    this.#subscriber = redis.duplicate({ lazyConnect: true })
    this.#listen(redis, {
      ready: () => {
        this.#setUp('command', true)
        // Changes made while it was down reached the viewers through the subscription, unless that was down too.
        this.#resync().catch(() => {})
      },
      close: () => this.#setUp('command', false)
    })
    this.#listen(this.#subscriber, {
      ready: () => {
        this.#resyncing = this.#subscribeAndResync()
        this.#resyncing.catch(() => {})
      },
      close: () => this.#setUp('subscriber', false),
      message: (_channel: string, message: string) => this.#onMessage(message),
      // Each failed attempt to reconnect; the outage is told once, as a change of availability.
      error: () => {}
    })
  }

  /** Subscribes and reads the state; resolves once the store knows it, rejects if it cannot. */
  async open (): Promise<void> {
    // The ready listener, added first, has begun the subscription by the time this resolves.
    await this.#subscriber.connect()
    await this.#resyncing
  }

  /** The latest public state this replica has passed on to its viewers. */
  get snapshot (): Snapshot {
    return this.#snapshot
  }

  get available (): boolean {
    return this.#available
  }

  async heartbeat (heartbeat: Heartbeat = {}): Promise<HeartbeatResult> {
    return this.#track(this.#step((sessions, at) => sessions.heartbeat(heartbeat, at)))
  }

  async stop (sessionId?: string): Promise<Snapshot> {
    return this.#track(this.#step((sessions, at) => sessions.stop(sessionId, at)))
  }

  onChange (listener: Listener<Snapshot>): () => void {
    return subscribe(this.#listeners, listener)
  }

  onSessionEvent (listener: Listener<SessionEvent>): () => void {
    return subscribe(this.#eventListeners, listener)
  }

  /** Told each time the shared state becomes unreachable, or reachable again. */
  onAvailabilityChange (listener: Listener<boolean>): () => void {
    return subscribe(this.#availabilityListeners, listener)
  }

  /**
   * Resolves once every step begun before the call has finished and every change committed
   * before it has reached this replica's listeners (the subscription answers in order).
   */
  async settled (): Promise<void> {
    await Promise.allSettled([...this.#inFlight])
    if (this.#subscriber.status === 'ready') await this.#subscriber.ping().catch(() => {})
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = null
    await Promise.allSettled([...this.#inFlight])
    for (const detach of this.#detach) detach()
    this.#listeners.clear()
    this.#eventListeners.clear()
    this.#availabilityListeners.clear()
    await this.#subscriber.quit().catch(() => this.#subscriber.disconnect())
  }

  /** Runs the domain step on the shared state until it commits; tells its events once it has. */
  async #step<Outcome> (apply: (sessions: LiveSessions, at: Moment) => Outcome): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      const { version, stored, timeMs } = await this.#read()
      const events: SessionEvent[] = []
      const sessions = new LiveSessions({ ...this.#options, tell: (event) => events.push(event) })
      const at = { now: timeMs, wallNow: timeMs }
      const before = this.#base(sessions, stored, at)
      const outcome = apply(sessions, at)
      const written = JSON.stringify({ record: sessions.toRecord(), held: sessions.held } satisfies StoredState)
      const after = sessions.snapshot
      const untilDeadline = sessions.earliestDeadline - at.now
      const message = after === before ? '' : `${Number.isFinite(untilDeadline) ? untilDeadline : ''}\n${after.json}`
      if (written === stored || await this.#commit(version, written, message, events)) {
        this.#arm(untilDeadline)
        for (const event of events) for (const listener of this.#eventListeners) listener(event)
        return outcome
      }
      if (attempt === MAX_ATTEMPTS) throw new StoreUnavailableError(`${MAX_ATTEMPTS} steps in a row lost to concurrent changes`)
    }
  }

  /**
   * Loads what the server holds; with nothing there (it lost its data), holds what this replica
   * has shown. The seq there is below what this replica has shown only if the server lost its data
   * and a replica that knew less started it again: if nothing but that seq is there, this replica
   * holds what it has shown instead; if sessions have been heard since, it keeps them. Either way
   * the step publishes above this replica's seq, so every replica's viewers catch up and no
   * viewer's seq goes back.
   */
  #base (sessions: LiveSessions, stored: string | null, at: Moment): Snapshot {
    if (stored === null) return sessions.hold(this.#snapshot, at)
    const [record, held] = parseStored(stored)
    const shownSeq = this.#snapshot.state.seq
    if (record.seq >= shownSeq) return sessions.load(record, held)
    const base = record.sessions.length === 0 && held === null ? sessions.hold(this.#snapshot, at) : sessions.load(record, held)
    sessions.catchUp(shownSeq)
    return base
  }

  async #read (): Promise<SharedState> {
    try {
      const [seconds, microseconds, version, stored] = await this.#redis.ccLiveReadState(this.#keys.state)
      const timeMs = this.#sharedClock?.() ?? Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000)
      return { version, stored, timeMs }
    } catch (error) {
      throw unavailableOr(error)
    }
  }

  async #commit (readVersion: string | null, record: string, message: string, events: readonly SessionEvent[]): Promise<boolean> {
    const logged = this.#logSessionEvents && events.length > 0 ? JSON.stringify(events) : ''
    const { state, changes, sessionLog } = this.#keys
    try {
      return await this.#redis.ccLiveCommitStep(state, changes, sessionLog, readVersion ?? '', randomUUID(), record, message, logged, SESSION_LOG_LENGTH) === 1
    } catch (error) {
      throw unavailableOr(error)
    }
  }

  /** Passes a state on to this replica's viewers if it is newer than what they have. */
  #offer (snapshot: Snapshot): void {
    if (snapshot.state.seq <= this.#snapshot.state.seq) return
    this.#snapshot = snapshot
    for (const listener of this.#listeners) listener(snapshot)
  }

  #onMessage (message: string): void {
    const newline = message.indexOf('\n')
    const untilDeadline = message.slice(0, newline)
    const json = message.slice(newline + 1)
    if (untilDeadline !== '') this.#arm(Number(untilDeadline))
    const state = JSON.parse(json) as PublicState
    // Older than what this replica has shown: the server lost its data and another replica, knowing
    // less, started it again; a step here publishes it above what these viewers have. (Also after a
    // read that overtook messages in flight: then the step finds nothing to do.)
    if (state.seq < this.#snapshot.state.seq) this.#resync().catch(() => {})
    else this.#offer({ state, json })
  }

  /**
   * Arms the expiry timer this far ahead unless it is armed sooner already. A timer that fires
   * early (the deadline moved on silently, or another replica expired it) finds nothing due and
   * arms itself again from what it read.
   */
  #arm (delayMs: number): void {
    if (!Number.isFinite(delayMs) || this.#closed) return
    const target = this.#clock.now() + Math.max(0, delayMs)
    if (target >= this.#timerTarget) return
    this.#timer?.cancel()
    this.#timerTarget = target
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null
      this.#timerTarget = Infinity
      // Unreachable now: the resync when the connection is back expires what is due.
      this.#track(this.#step((sessions, at) => sessions.expire(at))).catch(() => {})
    }, target - this.#clock.now())
  }

  /** Reads the state again (expiring what is due) and passes it on if it is newer. */
  async #resync (): Promise<void> {
    const snapshot = await this.#track(this.#step((sessions, at) => sessions.expire(at)))
    this.#offer(snapshot)
  }

  /** Changes published before the subscription was made again are missed: the read after it catches up. */
  async #subscribeAndResync (): Promise<void> {
    await this.#subscriber.subscribe(this.#keys.changes)
    this.#setUp('subscriber', true)
    await this.#resync()
  }

  #listen (client: Redis, listeners: Record<string, (...args: string[]) => void>): void {
    for (const [event, listener] of Object.entries(listeners)) client.on(event, listener)
    this.#detach.push(() => {
      for (const [event, listener] of Object.entries(listeners)) client.off(event, listener)
    })
  }

  #setUp (connection: 'command' | 'subscriber', up: boolean): void {
    if (connection === 'command') this.#commandUp = up
    else this.#subscriberUp = up
    const available = this.#commandUp && this.#subscriberUp
    if (available === this.#available || this.#closed) return
    this.#available = available
    for (const listener of this.#availabilityListeners) listener(available)
  }

  async #track<Value> (work: Promise<Value>): Promise<Value> {
    this.#inFlight.add(work)
    try {
      return await work
    } finally {
      this.#inFlight.delete(work)
    }
  }
}

export function parseStored (stored: string): [StoreRecord, HeldState | null] {
  const { record, held } = JSON.parse(stored) as StoredState
  return [record, held]
}
