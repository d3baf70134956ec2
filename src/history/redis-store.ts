import type { Redis, Result } from 'ioredis'
import { unavailableOnError } from '../redis/errors.ts'
import type { IsoDate } from './owner-calendar.ts'
import type { DayTimes, HistoryBatch, HistorySnapshot, HistorySnapshots, HistoryStore, RecordedHistory, Stretch } from './store.ts'

/** The history's keys under a deployment's prefix. */
export function historyKeys (prefix: string) {
  const key = (name: string) => `${prefix}history:${name}`
  return {
    /** The recorder's lease: the token of the one replica that may write. */
    lease: key('recorder'),
    /** recordedUntilMs and position, written with every batch. */
    meta: key('meta'),
    /** `<date>:active`, `<date>:working`, `<date>:waiting` → ms, each added to with HINCRBY. */
    days: key('days'),
    /** stretch key → the stretch as JSON. */
    stretches: key('stretches'),
    /** stretch keys by start, for the newest. */
    starts: key('starts'),
    /** ended stretch keys by end, for pruning. */
    ended: key('ended'),
    /** keys of the stretches still open. */
    open: key('open')
  }
}

const METRICS = ['active', 'working', 'waiting'] as const

/**
 * Writes one batch, all of it or nothing, only while the lease holds the writer's token: a recorder
 * that lost its lease (paused past it, cut off from the server) can never add what the next one
 * counts again. KEYS: lease, meta, days, stretches, starts, ended, open. ARGV: token,
 * recordedUntilMs, position, prune-before date, prune-ended-before ms, number of days, then four
 * per day (date and its three counts), then four per stretch (key, start, end or '', JSON).
 */
const WRITE_BATCH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'recordedUntilMs', ARGV[2], 'position', ARGV[3])
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  redis.call('HINCRBY', KEYS[3], ARGV[i] .. ':active', ARGV[i + 1])
  redis.call('HINCRBY', KEYS[3], ARGV[i] .. ':working', ARGV[i + 2])
  redis.call('HINCRBY', KEYS[3], ARGV[i] .. ':waiting', ARGV[i + 3])
  i = i + 4
end
while i <= #ARGV do
  local key = ARGV[i]
  redis.call('HSET', KEYS[4], key, ARGV[i + 3])
  redis.call('ZADD', KEYS[5], ARGV[i + 1], key)
  if ARGV[i + 2] == '' then
    redis.call('SADD', KEYS[7], key)
  else
    redis.call('SREM', KEYS[7], key)
    redis.call('ZADD', KEYS[6], ARGV[i + 2], key)
  end
  i = i + 4
end
if ARGV[4] ~= '' then
  for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
    if string.sub(field, 1, 10) < ARGV[4] then redis.call('HDEL', KEYS[3], field) end
  end
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[5])) do
    redis.call('HDEL', KEYS[4], key)
    redis.call('ZREM', KEYS[5], key)
    redis.call('ZREM', KEYS[6], key)
  end
end
return 1`

/**
 * One consistent read: the server's time, what the last batch recorded (its moment, its position,
 * the open stretches) and, by ARGV[1], nothing more, every day (`days`) or the ARGV[2] newest
 * stretches (`stretches`). KEYS: meta, open, stretches, days, starts.
 */
const READ_HISTORY = `
local time = redis.call('TIME')
local meta = redis.call('HMGET', KEYS[1], 'recordedUntilMs', 'position')
local openKeys = redis.call('SMEMBERS', KEYS[2])
local open = {}
if #openKeys > 0 then open = redis.call('HMGET', KEYS[3], unpack(openKeys)) end
local rows = {}
if ARGV[1] == 'days' then
  rows = redis.call('HGETALL', KEYS[4])
elseif ARGV[1] == 'stretches' then
  local keys = redis.call('ZREVRANGE', KEYS[5], 0, tonumber(ARGV[2]) - 1)
  if #keys > 0 then rows = redis.call('HMGET', KEYS[3], unpack(keys)) end
end
return { time[1], time[2], meta[1], meta[2], open, rows }`

type ReadReply = [string, string, string | null, string | null, Array<string | null>, Array<string | null>]

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ccLiveWriteHistory (...keysAndArgs: Array<string | number>): Result<0 | 1, Context>
    ccLiveReadHistory (...keysAndArgs: Array<string | number>): Result<ReadReply, Context>
  }
}

/** A write refused because another replica holds the recorder's lease now. */
export class HistoryLeaseLostError extends Error {
  constructor () {
    super('the history recorder\'s lease is held by another replica now, or by none')
    this.name = 'HistoryLeaseLostError'
  }
}

export interface RedisHistoryStoreOptions {
  /** The command connection, owned by whoever opened it. */
  redis: Redis
  prefix: string
  /** The lease token every write must still hold; none: the store only reads. */
  leaseToken?: string
  /** Epoch ms every reader agrees on; the Redis server's TIME unless a test moves it. */
  sharedClock?: () => number
}

/**
 * The history in Redis, under the deployment's prefix, beside the live state it is recorded from:
 * the days as one hash of counters that each batch adds to, the stretches by key with an index by
 * start (the newest) and by end (pruning) and the set of open ones, and the moment and log
 * position recorded so far, all written in one script per batch. Reads are one script each, so
 * what they count on from is the same write as what they read.
 */
export class RedisHistoryStore implements HistoryStore, HistorySnapshots {
  readonly #redis: Redis
  readonly #keys: ReturnType<typeof historyKeys>
  readonly #leaseToken: string | undefined
  readonly #sharedClock: (() => number) | undefined

  constructor ({ redis, prefix, leaseToken, sharedClock }: RedisHistoryStoreOptions) {
    this.#redis = redis
    this.#keys = historyKeys(prefix)
    this.#leaseToken = leaseToken
    this.#sharedClock = sharedClock
    redis.defineCommand('ccLiveWriteHistory', { numberOfKeys: 7, lua: WRITE_BATCH })
    redis.defineCommand('ccLiveReadHistory', { numberOfKeys: 5, lua: READ_HISTORY, readOnly: true })
  }

  async load (): Promise<RecordedHistory> {
    return (await this.#read('load')).recorded
  }

  async write ({ recordedUntilMs, position, days, stretches, prune }: HistoryBatch): Promise<void> {
    if (this.#leaseToken === undefined) throw new Error('this history store only reads')
    const { lease, meta, days: dayKey, stretches: stretchKey, starts, ended, open } = this.#keys
    const args: Array<string | number> = [lease, meta, dayKey, stretchKey, starts, ended, open,
      this.#leaseToken, ms(recordedUntilMs), position ?? '', prune?.beforeDate ?? '', ms(prune?.endedBeforeMs ?? 0), days.length]
    for (const { date, activeMs, workingMs, waitingMs } of days) args.push(date, ms(activeMs), ms(workingMs), ms(waitingMs))
    for (const stretch of stretches) {
      const stored = storedStretch(stretch)
      args.push(stored.key, stored.startMs, stored.endMs ?? '', JSON.stringify(stored))
    }
    if (await unavailableOnError(this.#redis.ccLiveWriteHistory(...args)) === 0) throw new HistoryLeaseLostError()
  }

  async days (from: IsoDate, to: IsoDate): Promise<DayTimes[]> {
    return (await this.daysSnapshot(from, to)).rows
  }

  async stretches (limit: number): Promise<Stretch[]> {
    return (await this.stretchesSnapshot(limit)).rows
  }

  async daysSnapshot (from: IsoDate, to: IsoDate): Promise<HistorySnapshot<DayTimes[]>> {
    const { recorded, rows, nowMs } = await this.#read('days')
    const byDate = new Map<IsoDate, Record<typeof METRICS[number], number>>()
    for (let index = 0; index + 1 < rows.length; index += 2) {
      const [date, metric] = (rows[index] as string).split(':') as [IsoDate, typeof METRICS[number]]
      if (date < from || date > to || !METRICS.includes(metric)) continue
      const day = byDate.get(date) ?? { active: 0, working: 0, waiting: 0 }
      day[metric] = Number(rows[index + 1])
      byDate.set(date, day)
    }
    const days = [...byDate].sort(([a], [b]) => a < b ? -1 : 1)
      .map(([date, { active, working, waiting }]) => ({ date, activeMs: active, workingMs: working, waitingMs: waiting }))
    return { recorded, rows: days, nowMs }
  }

  async stretchesSnapshot (limit: number): Promise<HistorySnapshot<Stretch[]>> {
    const { recorded, rows, nowMs } = await this.#read('stretches', limit)
    return { recorded, rows: parseStretches(rows), nowMs }
  }

  /** The connection is its owner's to close. */
  async close (): Promise<void> {}

  async #read (what: 'load' | 'days' | 'stretches', limit = 0): Promise<HistorySnapshot<Array<string | null>>> {
    const { meta, open, stretches, days, starts } = this.#keys
    const [seconds, microseconds, recordedUntil, position, openStretches, rows] =
      await unavailableOnError(this.#redis.ccLiveReadHistory(meta, open, stretches, days, starts, what, limit))
    const nowMs = this.#sharedClock?.() ?? Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000)
    const recorded: RecordedHistory = {
      recordedUntilMs: recordedUntil === null ? null : Number(recordedUntil),
      open: parseStretches(openStretches).sort((a, b) => a.startMs - b.startMs),
      position: position === null || position === '' ? null : position
    }
    return { recorded, rows, nowMs }
  }
}

/** Whole milliseconds, as the counters hold them; the clock may hand out fractions. */
const ms = (value: number): number => Math.round(value)

function storedStretch ({ key, sessionId, startMs, endMs, status, activity, ms: times }: Stretch): Stretch {
  return {
    key,
    sessionId,
    startMs: ms(startMs),
    endMs: endMs === null ? null : ms(endMs),
    status,
    activity,
    ms: { working: ms(times.working), waiting: ms(times.waiting), idle: ms(times.idle), live: ms(times.live) }
  }
}

/** Stretches as stored (HMGET answers null for a missing key; the indexes change with the hash, in one script, so none is). */
function parseStretches (rows: ReadonlyArray<string | null>): Stretch[] {
  return rows.filter((row) => row !== null).map((row) => JSON.parse(row) as Stretch)
}
