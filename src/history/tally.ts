import { topStatus, type SessionStatus } from '../live/public-state.ts'
import type { IsoDate, OwnerCalendar } from './owner-calendar.ts'
import type { DayTimes, StatusTimes, Stretch } from './store.ts'

/** Milliseconds counted on one owner-local day and not yet stored. */
export interface DayDelta {
  activeMs: number
  workingMs: number
  waitingMs: number
}

/** What counting needs of an open stretch: its status now, and the times it grows. */
export interface CountedStretch {
  readonly status: SessionStatus
  readonly ms: StatusTimes
}

/**
 * Counts the span [fromMs, toMs) during which `open` were the live stretches: each one's time in its
 * status, and on each owner-local day the time any was live (active) and the time the public status
 * was working or waiting. The one rule of counting, for the recorder as it records and for a reader
 * counting on from what was stored.
 */
export function countLive (open: readonly CountedStretch[], fromMs: number, toMs: number, calendar: OwnerCalendar, days: Map<IsoDate, DayDelta>): void {
  if (open.length === 0 || toMs <= fromMs) return
  const status = topStatus(open)
  calendar.split(fromMs, toMs, (date, ms) => {
    const day = days.get(date) ?? { activeMs: 0, workingMs: 0, waitingMs: 0 }
    day.activeMs += ms
    if (status === 'working') day.workingMs += ms
    if (status === 'waiting') day.waitingMs += ms
    days.set(date, day)
  })
  for (const stretch of open) stretch.ms[stretch.status] += toMs - fromMs
}

/** The stored days from..to with what was counted since added, in date order. */
export function withDeltas (stored: readonly DayTimes[], deltas: ReadonlyArray<ReadonlyMap<IsoDate, DayDelta> | undefined>, from: IsoDate, to: IsoDate): DayTimes[] {
  const byDate = new Map(stored.map((day) => [day.date, { ...day }]))
  for (const counted of deltas) {
    for (const [date, delta] of counted ?? []) {
      if (date < from || date > to) continue
      const day = byDate.get(date) ?? { date, activeMs: 0, workingMs: 0, waitingMs: 0 }
      day.activeMs += delta.activeMs
      day.workingMs += delta.workingMs
      day.waitingMs += delta.waitingMs
      byDate.set(date, day)
    }
  }
  return [...byDate.values()].sort((a, b) => a.date < b.date ? -1 : a.date > b.date ? 1 : 0)
}

/** The `limit` stretches that started last, newest first: the stored ones, each replaced by a newer count of it. */
export function newestStretches (stored: readonly Stretch[], newer: Iterable<Stretch>, limit: number): Stretch[] {
  const byKey = new Map(stored.map((stretch) => [stretch.key, stretch]))
  for (const stretch of newer) byKey.set(stretch.key, stretch)
  return [...byKey.values()].sort((a, b) => b.startMs - a.startMs).slice(0, limit)
}

/** A stretch with its own activity and times, so that counting on changes nothing of the original. */
export function copyStretch<Copied extends Stretch> (stretch: Copied): Copied {
  return { ...stretch, activity: { ...stretch.activity }, ms: { ...stretch.ms } }
}
