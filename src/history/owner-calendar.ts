/// <reference lib="esnext.temporal" />

/** A day on the owner's calendar, `YYYY-MM-DD`. */
export type IsoDate = string

/** One owner-local day as a span of epoch milliseconds: 23 or 25 hours long on the days clocks change. */
export interface OwnerDay {
  readonly date: IsoDate
  readonly startMs: number
  readonly endMs: number
}

/** The zone's canonical name (`utc` is `UTC`); throws for a name Temporal does not know. */
export function checkTimeZone (name: string): string {
  try {
    return new Temporal.ZonedDateTime(0n, name).timeZoneId
  } catch {
    throw new Error(`"${name}" is not a time zone: use an IANA name such as Europe/Berlin, or UTC`)
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

/** Whether the text is a real calendar date written `YYYY-MM-DD` (no 2026-02-30). */
export function isIsoDate (text: string): boolean {
  if (!ISO_DATE.test(text)) return false
  try {
    Temporal.PlainDate.from(text, { overflow: 'reject' })
    return true
  } catch {
    return false
  }
}

export function addDays (date: IsoDate, days: number): IsoDate {
  return Temporal.PlainDate.from(date).add({ days }).toString()
}

/** Whole days from `from` to `to`; negative when `to` comes first. */
export function daysBetween (from: IsoDate, to: IsoDate): number {
  return Temporal.PlainDate.from(from).until(to).days
}

/** 0 for Sunday to 6 for Saturday, the rows of a contribution graph. */
export function weekday (date: IsoDate): number {
  return Temporal.PlainDate.from(date).dayOfWeek % 7
}

/**
 * The owner's days in their time zone. Temporal does the zone arithmetic, so a day across a DST
 * change is as long as it really was, and a day with no midnight starts when the day does.
 */
export class OwnerCalendar {
  readonly timeZone: string
  /** The day most recently asked about: nearly every question is about today. */
  #lastDay: OwnerDay | null = null

  constructor (timeZone: string) {
    this.timeZone = timeZone
  }

  dayAt (ms: number): OwnerDay {
    const last = this.#lastDay
    if (last !== null && ms >= last.startMs && ms < last.endMs) return last
    const date = Temporal.Instant.fromEpochMilliseconds(Math.floor(ms)).toZonedDateTimeISO(this.timeZone).toPlainDate()
    const day = { date: date.toString(), startMs: this.#startOf(date), endMs: this.#startOf(date.add({ days: 1 })) }
    this.#lastDay = day
    return day
  }

  dateAt (ms: number): IsoDate {
    return this.dayAt(ms).date
  }

  /** When the owner's day begins, in epoch milliseconds. */
  startOf (date: IsoDate): number {
    return this.#startOf(Temporal.PlainDate.from(date))
  }

  /** Calls `add` with each owner-local day the span [fromMs, toMs) touches and the milliseconds of it in that day. */
  split (fromMs: number, toMs: number, add: (date: IsoDate, ms: number) => void): void {
    let start = fromMs
    while (start < toMs) {
      const day = this.dayAt(start)
      const end = Math.min(toMs, day.endMs)
      add(day.date, end - start)
      start = end
    }
  }

  #startOf (date: Temporal.PlainDate): number {
    return date.toZonedDateTime(this.timeZone).epochMilliseconds
  }
}
