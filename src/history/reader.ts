import type { Clock } from '../clock.ts'
import type { DayTimes, HistorySnapshots, RecordedHistory, Stretch } from './store.ts'
import type { HistoryReads } from './report.ts'
import { copyStretch, countLive, newestStretches, withDeltas, type DayDelta } from './tally.ts'
import type { IsoDate, OwnerCalendar } from './owner-calendar.ts'

export interface HistoryReaderOptions {
  store: HistorySnapshots
  calendar: OwnerCalendar
  /** Days kept, today included. */
  retentionDays: number
  /** Says what today is; the counting itself runs to the time of each read, as the store gives it. */
  clock: Clock
}

/**
 * The history as a process that does not record it reads it (every replica on Redis, whichever
 * one records): what the recorder stored, and, counted on from where it stopped to the moment of
 * the read by the recorder's own rule, the stretches that were open then. So a read is at most the
 * recorder's last second behind, and every replica answers the same.
 */
export class HistoryReader implements HistoryReads {
  readonly #store: HistorySnapshots
  readonly #calendar: OwnerCalendar
  readonly #clock: Clock
  readonly retentionDays: number

  constructor ({ store, calendar, retentionDays, clock }: HistoryReaderOptions) {
    this.#store = store
    this.#calendar = calendar
    this.#clock = clock
    this.retentionDays = retentionDays
  }

  get timezone (): string {
    return this.#calendar.timeZone
  }

  get today (): IsoDate {
    return this.#calendar.dateAt(this.#clock.wallNow())
  }

  async days (from: IsoDate, to: IsoDate): Promise<DayTimes[]> {
    const { recorded, rows, nowMs } = await this.#store.daysSnapshot(from, to)
    return withDeltas(rows, [this.#countOn(recorded, nowMs).days], from, to)
  }

  async stretches (limit: number): Promise<Stretch[]> {
    const { recorded, rows, nowMs } = await this.#store.stretchesSnapshot(limit)
    return newestStretches(rows, this.#countOn(recorded, nowMs).open, limit)
  }

  /** The open stretches and the days, counted from where the recorder stopped to `nowMs`. */
  #countOn ({ recordedUntilMs, open }: RecordedHistory, nowMs: number): { open: Stretch[], days: Map<IsoDate, DayDelta> } {
    const counted = open.map(copyStretch)
    const days = new Map<IsoDate, DayDelta>()
    if (recordedUntilMs !== null) countLive(counted, recordedUntilMs, nowMs, this.#calendar, days)
    return { open: counted, days }
  }
}
