import { randomUUID } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { systemClock, type Clock, type Timer } from '../clock.ts'
import type { OwnerCalendar } from './owner-calendar.ts'
import { HistoryRecorder } from './recorder.ts'
import { comparePositions, LOG_START, RedisSessionLog, type LogEntry } from './redis-session-log.ts'
import { historyKeys, HistoryLeaseLostError, RedisHistoryStore } from './redis-store.ts'

/**
 * Takes the recorder's lease if nobody holds it (ARGV[3] `take`) or keeps it for ARGV[2] ms more
 * if this token holds it (`keep`); answers whether this token holds it, and the server's time.
 */
const CLAIM_LEASE = `
local time = redis.call('TIME')
local held = 0
if ARGV[3] == 'keep' then
  if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    held = 1
  end
elseif redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  held = 1
end
return { held, time[1], time[2] }`

/** Gives the lease back, if this token still holds it, so another replica takes over at once. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ccLiveClaimLease (key: string, token: string, leaseMs: number, mode: 'take' | 'keep'): Result<[0 | 1, string, string], Context>
    ccLiveReleaseLease (key: string, token: string): Result<number, Context>
  }
}

/** How long a recorder's lease lasts unless kept; a replica that dies is taken over after at most this. */
export const LEASE_MS = 3000
/** The longest a read of the log waits for an entry (below the connection's command timeout). */
const WAIT_MS = 500
/** How often the recorder is brought in line with the live state, for events the log lost or never had. */
const RECONCILE_MS = 60_000

export interface RedisHistoryRecordingOptions {
  /** The command connection, owned by whoever opened it; the recorder reads the log on a copy of its own. */
  redis: Redis
  prefix: string
  calendar: OwnerCalendar
  /** Days kept, today included. */
  retentionDays: number
  clock?: Clock
  /** The time every replica agrees on, ms since the epoch; the Redis server's TIME unless a test moves it. */
  sharedClock?: () => number
  leaseMs?: number
  /** Longest time between writes (see HistoryRecorder); tests lengthen it. */
  flushMs?: number
  /** A write failed (with its error), or writes work again after failing (null). */
  onWriteProblem?: (error: Error | null) => void
  /** This replica became the recorder (true), or stopped being it (false). */
  onRecording?: (recording: boolean) => void
  /** Stretches brought in line with the live state, and how many: events the log lost or never had. */
  onReconciled?: (count: number) => void
}

/** One replica's time as the recorder: from taking the lease to losing or giving it back. */
interface Term {
  readonly token: string
  readonly reader: Redis
  recorder: HistoryRecorder | null
  /** Everything in the log up to its end when the term began has been recorded. */
  caughtUp: boolean
  reconcileAt: number
  stopped: boolean
  following: Promise<void>
  ending: Promise<void> | null
}

/**
 * Records the history shared by replicas, exactly once whichever replica made each change. Each
 * step appends its session events to one log in Redis, in commit order, atomically with the
 * commit (src/live/redis-store.ts). One replica at a time holds the recorder's lease (SET NX PX,
 * kept every third of it) and runs the one HistoryRecorder on that log, writing to the history in
 * Redis, where every batch is written only while its lease holds, with the log position it counts
 * up to. A replica that loses the lease stops and writes nothing more; the next one to take it
 * goes on from the last batch written and reads the log on from its position, so nothing is
 * counted twice and nothing is lost.
 */
export class RedisHistoryRecording {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #leaseKey: string
  readonly #leaseMs: number
  readonly #log: RedisSessionLog
  readonly #calendar: OwnerCalendar
  readonly #retentionDays: number
  readonly #clock: Clock
  /** The recorder's clock: the Redis server's time, as this replica's clock and the last claim's answer put it. */
  readonly #historyClock: Clock
  readonly #options: RedisHistoryRecordingOptions
  #offsetMs = 0
  #term: Term | null = null
  #timer: Timer | null = null
  #claiming: Promise<void> | null = null
  /** Woken at each claim and each read of the log: whoever waits for the recorder to move on. */
  #waiters: Array<() => void> = []
  #closed = false

  constructor (options: RedisHistoryRecordingOptions) {
    const { redis, prefix, calendar, retentionDays, clock = systemClock, sharedClock, leaseMs = LEASE_MS } = options
    this.#options = options
    this.#redis = redis
    this.#prefix = prefix
    this.#leaseKey = historyKeys(prefix).lease
    this.#leaseMs = leaseMs
    this.#log = new RedisSessionLog({ redis, prefix, sharedClock })
    this.#calendar = calendar
    this.#retentionDays = retentionDays
    this.#clock = clock
    this.#historyClock = {
      now: () => clock.now(),
      wallNow: () => sharedClock?.() ?? clock.wallNow() + this.#offsetMs,
      setTimer: (callback, delayMs) => clock.setTimer(callback, delayMs)
    }
    redis.defineCommand('ccLiveClaimLease', { numberOfKeys: 1, lua: CLAIM_LEASE })
    redis.defineCommand('ccLiveReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE })
  }

  /** Whether this replica records the history now. */
  get recording (): boolean {
    return this.#term?.caughtUp ?? false
  }

  /** Begins to claim the lease now and every third of it. */
  start (): void {
    this.#claim()
  }

  /**
   * Resolves once a claim under way has finished and, if this replica records, once it has read
   * every entry the log held at the call.
   */
  async settled (): Promise<void> {
    await this.#claiming
    const term = this.#term
    if (term === null) return
    const end = await this.#log.end()
    while (this.#term === term && !term.stopped && comparePositions(term.recorder?.position ?? LOG_START, end) < 0) await this.#moved()
  }

  /** Stops claiming; if this replica records, writes what it counted and gives the lease back. */
  async close (): Promise<void> {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = null
    await this.#claiming
    if (this.#term !== null) await this.#end(this.#term, 'give back')
  }

  #claim (): void {
    if (this.#closed || this.#claiming !== null) return
    this.#claiming = this.#claimOnce().finally(() => {
      this.#claiming = null
      this.#wake()
      if (this.#closed) return
      this.#timer = this.#clock.setTimer(() => {
        this.#timer = null
        this.#claim()
      }, this.#leaseMs / 3)
    })
  }

  async #claimOnce (): Promise<void> {
    const term = this.#term
    const token = term?.token ?? randomUUID()
    let held: boolean
    try {
      const [answer, seconds, microseconds] = await this.#redis.ccLiveClaimLease(this.#leaseKey, token, this.#leaseMs, term === null ? 'take' : 'keep')
      this.#offsetMs = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000) - this.#clock.wallNow()
      held = answer === 1
    } catch {
      // Unreachable: whether the lease still holds is for the next claim, or the next write, to find.
      return
    }
    if (term !== null && !held) await this.#end(term, 'lost')
    else if (term === null && held && !this.#closed) await this.#begin(token)
    else if (term !== null && term.recorder !== null && term.caughtUp && this.#clock.now() >= term.reconcileAt) {
      // Unreachable meanwhile: the next claim tries again.
      await this.#catchUp(term, term.recorder).catch(() => {})
    }
  }

  /** Takes over from the last batch written: reads the log on from its position, then follows it. */
  async #begin (token: string): Promise<void> {
    const term: Term = {
      token,
      reader: this.#redis.duplicate({ lazyConnect: true }),
      recorder: null,
      caughtUp: false,
      reconcileAt: 0,
      stopped: false,
      following: Promise.resolve(),
      ending: null
    }
    term.reader.on('error', () => {}) // the outage is the live store's to tell; reads retry at each claim
    this.#term = term
    try {
      await term.reader.connect()
      term.recorder = await HistoryRecorder.follow({
        store: new RedisHistoryStore({ redis: this.#redis, prefix: this.#prefix, leaseToken: token }),
        calendar: this.#calendar,
        retentionDays: this.#retentionDays,
        clock: this.#historyClock,
        flushMs: this.#options.flushMs,
        onWriteProblem: (error) => {
          if (error instanceof HistoryLeaseLostError) this.#end(term, 'lost').catch(() => {})
          else this.#options.onWriteProblem?.(error)
        }
      })
      await this.#catchUp(term, term.recorder)
    } catch {
      await this.#end(term, 'give back')
      return
    }
    term.caughtUp = true
    this.#options.onRecording?.(true)
    term.following = this.#follow(term, term.recorder)
  }

  /**
   * Records the log from where the recorder stands to its end now, then brings the recorder in
   * line with the live sessions there (nothing to do unless the log lost entries or never had them:
   * trimmed while no recorder ran, or written before the history was).
   */
  async #catchUp (term: Term, recorder: HistoryRecorder): Promise<void> {
    const point = await this.#log.livePoint()
    // A history never recorded before reads the whole log: all of it, on a new deployment.
    for await (const entries of this.#log.between(recorder.position ?? LOG_START, point.position)) {
      if (term.stopped) return
      this.#record(recorder, entries)
    }
    term.reconcileAt = this.#clock.now() + RECONCILE_MS
    // The log followed on meanwhile, past that point: the live sessions there are not what the recorder holds.
    if (term.stopped || (recorder.position !== null && comparePositions(recorder.position, point.position) > 0)) return
    const count = recorder.reconcile(point.sessions, point.nowMs, point.position)
    if (count > 0) this.#options.onReconciled?.(count)
  }

  async #follow (term: Term, recorder: HistoryRecorder): Promise<void> {
    while (!term.stopped) {
      try {
        const entries = await this.#log.wait(term.reader, recorder.position ?? LOG_START, WAIT_MS)
        if (term.stopped) return
        this.#record(recorder, entries)
        this.#wake()
      } catch {
        // Redis out of reach: try again at the next claim, about a second on.
        if (!term.stopped) await this.#moved()
      }
    }
  }

  async #readToEnd (recorder: HistoryRecorder): Promise<void> {
    for await (const entries of this.#log.between(recorder.position ?? LOG_START, await this.#log.end())) this.#record(recorder, entries)
  }

  /**
   * Records entries of the log that come after what the recorder has: a catch-up and the log's
   * follower may both have read some, each a run of entries from a position it had reached.
   */
  #record (recorder: HistoryRecorder, entries: readonly LogEntry[]): void {
    for (const { position, events } of entries) {
      if (recorder.position === null || comparePositions(position, recorder.position) > 0) recorder.recordFromLog(events, position)
    }
  }

  /**
   * Ends a term: `give back` writes what was counted (if the log behind was caught up) and gives
   * the lease back; `lost` writes nothing, the next recorder counts it again from the log.
   */
  async #end (term: Term, how: 'give back' | 'lost'): Promise<void> {
    term.ending ??= (async () => {
      term.stopped = true
      if (this.#term === term) this.#term = null
      term.reader.disconnect()
      this.#wake()
      await term.following
      const recorder = term.recorder
      if (how === 'give back' && term.caughtUp && recorder !== null) {
        // What the log holds now, so that the next recorder begins where this one's count ends.
        await this.#readToEnd(recorder).catch(() => {})
        await recorder.close()
      } else {
        recorder?.abandon()
      }
      if (how === 'give back') await this.#redis.ccLiveReleaseLease(this.#leaseKey, term.token).catch(() => {})
      if (term.caughtUp) this.#options.onRecording?.(false)
    })()
    return term.ending
  }

  #moved (): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #wake (): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}
