import type { Redis, Result } from 'ioredis'
import { liveStateKeys, parseStored } from '../live/redis-store.ts'
import type { SessionEvent } from '../live/store.ts'
import { unavailableOnError } from '../redis/errors.ts'
import type { LiveSession } from './recorder.ts'

/**
 * The live sessions and the last entry of the log, in one read: every step commits its state and
 * its log entry together, so these sessions are exactly what the log up to that entry leads to.
 */
const READ_LIVE_POINT = `
local time = redis.call('TIME')
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local position = '0-0'
if #last > 0 then position = last[1][1] end
return { time[1], time[2], redis.call('HGET', KEYS[1], 'record'), position }`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ccLiveReadLivePoint (stateKey: string, logKey: string): Result<[string, string, string | null, string], Context>
  }
}

/** One step's session events and where its entry stands in the log. */
export interface LogEntry {
  readonly position: string
  readonly events: readonly SessionEvent[]
}

/** The live sessions as the log up to `position` leaves them, at the server's time then. */
export interface LivePoint {
  readonly sessions: readonly LiveSession[]
  readonly position: string
  readonly nowMs: number
}

/** Where a log that holds nothing yet begins: every entry comes after it. */
export const LOG_START = '0-0'

/** Entries read at a time. */
const PAGE = 1000

type StreamEntry = [id: string, fields: string[]]

/**
 * Reading the log of session events the replicas' steps append to (see COMMIT_STEP in
 * src/live/redis-store.ts): a Redis stream, in commit order, one entry per step with events.
 */
export class RedisSessionLog {
  readonly #redis: Redis
  readonly #keys: ReturnType<typeof liveStateKeys>
  readonly #sharedClock: (() => number) | undefined

  constructor ({ redis, prefix, sharedClock }: { redis: Redis, prefix: string, sharedClock?: () => number }) {
    this.#redis = redis
    this.#keys = liveStateKeys(prefix)
    this.#sharedClock = sharedClock
    redis.defineCommand('ccLiveReadLivePoint', { numberOfKeys: 2, lua: READ_LIVE_POINT, readOnly: true })
  }

  async livePoint (): Promise<LivePoint> {
    const [seconds, microseconds, stored, position] = await unavailableOnError(this.#redis.ccLiveReadLivePoint(this.#keys.state, this.#keys.sessionLog))
    const nowMs = this.#sharedClock?.() ?? Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000)
    const sessions = stored === null
      ? []
      : parseStored(stored)[0].sessions.map(({ id, status, statusSinceMs, activity }) => ({ sessionId: id, status, statusSinceMs, activity }))
    return { sessions, position, nowMs }
  }

  /** The entries after `from` up to `to` included, a page at a time. */
  async * between (from: string, to: string): AsyncGenerator<LogEntry[]> {
    for (let after = from; ;) {
      const page = await unavailableOnError(this.#redis.xrange(this.#keys.sessionLog, `(${after}`, to, 'COUNT', PAGE)) as StreamEntry[]
      if (page.length === 0) return
      const entries = page.map(toEntry)
      yield entries
      after = entries.at(-1)?.position ?? to
    }
  }

  /**
   * The entries after `from`, waiting up to `blockMs` for one if there is none yet. Blocks the
   * connection it is given, which must be that reader's own.
   */
  async wait (connection: Redis, from: string, blockMs: number): Promise<LogEntry[]> {
    const reply = await unavailableOnError(connection.xread('COUNT', PAGE, 'BLOCK', blockMs, 'STREAMS', this.#keys.sessionLog, from)) as Array<[string, StreamEntry[]]> | null
    return reply?.[0]?.[1].map(toEntry) ?? []
  }

  /** Where the log ends now. */
  async end (): Promise<string> {
    const [last] = await unavailableOnError(this.#redis.xrevrange(this.#keys.sessionLog, '+', '-', 'COUNT', 1)) as StreamEntry[]
    return last?.[0] ?? LOG_START
  }
}

/** Orders two log positions (`<ms>-<seq>`). */
export function comparePositions (a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint]
  const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint]
  return aMs === bMs ? Number(aSeq - bSeq) : aMs < bMs ? -1 : 1
}

function toEntry ([position, fields]: StreamEntry): LogEntry {
  const json = fields[fields.indexOf('events') + 1] ?? '[]'
  return { position, events: JSON.parse(json) as SessionEvent[] }
}
