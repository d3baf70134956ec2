import { addDays, daysBetween, isIsoDate, type IsoDate } from './owner-calendar.ts'

/** A query parameter that breaks its rule: answered 400 in the one error shape, the message naming it. */
export class QueryError extends Error {
  readonly parameter: string
  readonly statusCode = 400
  readonly code = 'CC_LIVE_BAD_QUERY'

  constructor (parameter: string, reason: string) {
    super(`${parameter}: ${reason}`)
    this.parameter = parameter
    this.name = 'QueryError'
  }
}

/** Days a history query covers when it does not say, and at most. */
export const DEFAULT_DAYS = 365
export const MAX_DAYS = 400
/** The most days a history keeps (CC_LIVE_HISTORY_DAYS at its maximum), and so the farthest a query may reach from today either way. */
export const MAX_RETENTION_DAYS = 3660

export interface DateRange {
  from: IsoDate
  to: IsoDate
}

/**
 * `from` and `to` of GET /ws/live/history: by default the 365 days up to today. Both lie within
 * MAX_RETENTION_DAYS of today, where a history can hold anything: a date such as 9999-12-31 would
 * only ask for days that cannot exist, and its neighbours are no longer `YYYY-MM-DD`.
 */
export function parseRange ({ from, to }: { from?: string, to?: string }, today: IsoDate): DateRange {
  const last = to === undefined ? today : date('to', to, today)
  const first = from === undefined ? addDays(last, 1 - DEFAULT_DAYS) : date('from', from, today)
  const days = daysBetween(first, last) + 1
  if (days < 1) throw new QueryError('from', `must not be after to (${last})`)
  if (days > MAX_DAYS) throw new QueryError('from', `must be at most ${MAX_DAYS} days before to (${last}), counting both`)
  return { from: first, to: last }
}

function date (parameter: string, text: string, today: IsoDate): IsoDate {
  if (!isIsoDate(text)) throw new QueryError(parameter, 'must be a date written YYYY-MM-DD, such as 2026-01-31')
  if (Math.abs(daysBetween(today, text)) > MAX_RETENTION_DAYS) throw new QueryError(parameter, `must be within ${MAX_RETENTION_DAYS} days of today (${today})`)
  return text
}

/** A whole number from min to max, or `fallback` when absent. */
export function parseCount (parameter: string, text: string | undefined, { min, max, fallback }: { min: number, max: number, fallback: number }): number {
  if (text === undefined) return fallback
  const value = /^\d{1,6}$/.test(text) ? Number(text) : NaN
  if (!(value >= min && value <= max)) throw new QueryError(parameter, `must be a whole number from ${min} to ${max}`)
  return value
}

/** One of `words`, or the first when absent. */
export function parseWord<Word extends string> (parameter: string, text: string | undefined, words: readonly [Word, ...Word[]]): Word {
  if (text === undefined) return words[0]
  if (!(words as readonly string[]).includes(text)) throw new QueryError(parameter, `must be ${words.slice(0, -1).join(', ')} or ${words.at(-1)}`)
  return text as Word
}
