import { ACTIVITY_FIELDS, type Activity, type ActivityField } from '../live/public-state.ts'
import { addDays, daysBetween, type IsoDate } from './owner-calendar.ts'
import type { DayTimes, Stretch } from './store.ts'

/** Seconds on one owner-local day, as the history route answers them. */
export interface DaySeconds {
  readonly date: IsoDate
  readonly active: number
  readonly working: number
  readonly waiting: number
}

export interface Streak {
  /** Consecutive days with any activity up to today, or up to yesterday while today has none yet. */
  readonly current: number
  /** The most consecutive days with any activity in the history kept. */
  readonly longest: number
}

/** What GET /ws/live/history answers. */
export interface HistoryReport {
  readonly timezone: string
  readonly from: IsoDate
  readonly to: IsoDate
  /** Every day from..to, in order, days without activity included. */
  readonly days: readonly DaySeconds[]
  /** Sums over `days`, and how many of them had any activity. */
  readonly totals: { readonly active: number, readonly working: number, readonly waiting: number, readonly activeDays: number }
  readonly streak: Streak
  readonly today: DaySeconds
  /** Seconds at which the heatmap's levels 1 to 4 begin: any activity, 1 h, 2 h, 4 h. */
  readonly levels: readonly number[]
}

export const LEVELS: readonly number[] = [1, 3600, 7200, 14400]

/** The heatmap level of a day: 0 for nothing, up to LEVELS.length. */
export function levelOf (seconds: number): number {
  return LEVELS.filter((threshold) => seconds >= threshold).length
}

export interface ReportInput {
  timezone: string
  from: IsoDate
  to: IsoDate
  today: IsoDate
  /** The days that hold anything, at least from the oldest day kept (for the streaks) to `to` and `today`. */
  days: readonly DayTimes[]
}

const seconds = (ms: number): number => Math.round(ms / 1000)

function daySeconds (date: IsoDate, times: DayTimes | undefined): DaySeconds {
  return { date, active: seconds(times?.activeMs ?? 0), working: seconds(times?.workingMs ?? 0), waiting: seconds(times?.waitingMs ?? 0) }
}

export function historyReport ({ timezone, from, to, today, days }: ReportInput): HistoryReport {
  const byDate = new Map(days.map((day) => [day.date, day]))
  // Walked by count, not by comparing the dates' text: past year 9999 that text no longer sorts.
  const range = Array.from({ length: Math.max(0, daysBetween(from, to) + 1) }, (_, index) => {
    const date = addDays(from, index)
    return daySeconds(date, byDate.get(date))
  })
  const totals = { active: 0, working: 0, waiting: 0, activeDays: 0 }
  for (const day of range) {
    totals.active += day.active
    totals.working += day.working
    totals.waiting += day.waiting
    if (day.active > 0) totals.activeDays++
  }
  const activeDates = days.filter((day) => seconds(day.activeMs) > 0).map((day) => day.date)
  return { timezone, from, to, days: range, totals, streak: streakOf(activeDates, today), today: daySeconds(today, byDate.get(today)), levels: LEVELS }
}

/** The streaks of a list of dates with activity, in date order. */
export function streakOf (activeDates: readonly IsoDate[], today: IsoDate): Streak {
  let longest = 0
  let run = 0
  let previous: IsoDate | null = null
  for (const date of activeDates) {
    if (daysBetween(date, today) < 0) break
    run = previous !== null && daysBetween(previous, date) === 1 ? run + 1 : 1
    longest = Math.max(longest, run)
    previous = date
  }
  const current = previous !== null && daysBetween(previous, today) <= 1 ? run : 0
  return { current, longest }
}

export interface HistorySource {
  readonly timezone: string
  readonly today: IsoDate
  /** Days kept, today included: how far back the streaks can look. */
  readonly retentionDays: number
  days (from: IsoDate, to: IsoDate): Promise<DayTimes[]>
}

/** Everything the history routes read: the days, and the sessions log. */
export interface HistoryReads extends HistorySource {
  /** The `limit` stretches that started last, newest first, open ones counted up to now. */
  stretches (limit: number): Promise<Stretch[]>
}

/** The report for from..to, read in one go with the days the streaks need. */
export async function readReport (source: HistorySource, { from, to }: { from: IsoDate, to: IsoDate }): Promise<HistoryReport> {
  const { timezone, today, retentionDays } = source
  const oldest = addDays(today, 1 - retentionDays)
  const days = await source.days(daysBetween(from, oldest) > 0 ? from : oldest, daysBetween(today, to) > 0 ? to : today)
  return historyReport({ timezone, from, to, today, days })
}

/** One past session as GET /ws/live/sessions shows it: never its id. */
export interface SessionSummary {
  readonly start: string
  /** null while it is live */
  readonly end: string | null
  readonly seconds: { readonly working: number, readonly waiting: number, readonly idle: number, readonly live: number }
  /** The fields that were public then and still are. */
  readonly activity: Activity
}

export function sessionSummary ({ startMs, endMs, ms, activity }: Stretch, publicFields: ReadonlySet<ActivityField>): SessionSummary {
  const shown: Activity = {}
  for (const field of ACTIVITY_FIELDS) {
    const value = activity[field]
    if (value !== undefined && publicFields.has(field)) shown[field] = value
  }
  return {
    start: new Date(startMs).toISOString(),
    end: endMs === null ? null : new Date(endMs).toISOString(),
    seconds: { working: seconds(ms.working), waiting: seconds(ms.waiting), idle: seconds(ms.idle), live: seconds(ms.live) },
    activity: shown
  }
}
