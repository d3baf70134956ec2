import type { Status } from '../live/public-state.ts'
import { durationText } from '../widget/duration-text.ts'
import { addDays, weekday, type IsoDate } from './owner-calendar.ts'
import { levelOf, type DaySeconds, type HistoryReport } from './report.ts'

export const CARD_METRICS = ['active', 'working'] as const
export type CardMetric = typeof CARD_METRICS[number]
export const CARD_THEMES = ['auto', 'light', 'dark'] as const
export type CardTheme = typeof CARD_THEMES[number]

export interface CardOptions {
  weeks: number
  metric: CardMetric
  theme: CardTheme
  /** The public status now, for the dot in the corner. */
  status: Status
}

/** The first day of the card: the Sunday `weeks - 1` weeks before the one holding `today`. */
export function cardStart (today: IsoDate, weeks: number): IsoDate {
  return addDays(today, -(weeks - 1) * 7 - weekday(today))
}

const CELL = 10
const STEP = 13
const PAD = 16
const LABELS = 30
const GRID_TOP = 58
const MIN_WIDTH = 340
const HEIGHT = 202

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const WEEKDAY_LABELS: Array<[row: number, label: string]> = [[1, 'Mon'], [3, 'Wed'], [5, 'Fri']]
const LEGEND = ['no activity', 'under 1 h', '1 to 2 h', '2 to 4 h', '4 h or more']

/** GitHub's contribution colours, and the statuses' colours of the widget. */
const LIGHT = '.bg{fill:#fff;stroke:#d0d7de}.fg{fill:#1f2328}.mute{fill:#656d76}' +
  '.l0{fill:#ebedf0}.l1{fill:#9be9a8}.l2{fill:#40c463}.l3{fill:#30a14e}.l4{fill:#216e39}' +
  '.working,.live{fill:#1a7f37}.waiting{fill:#bc4c00}.idle{fill:#0969da}.offline{fill:#8c959f}'
const DARK = '.bg{fill:#0d1117;stroke:#30363d}.fg{fill:#e6edf3}.mute{fill:#8b949e}' +
  '.l0{fill:#161b22}.l1{fill:#0e4429}.l2{fill:#006d32}.l3{fill:#26a641}.l4{fill:#39d353}' +
  '.working,.live{fill:#3fb950}.waiting{fill:#db6d28}.idle{fill:#4493f8}.offline{fill:#6e7681}'
const THEME_CSS: Record<CardTheme, string> = {
  light: LIGHT,
  dark: DARK,
  // Inside the SVG, so it follows the viewer's colour scheme even as an <img> on a README.
  auto: `${LIGHT}@media (prefers-color-scheme:dark){${DARK}}`
}
const FONT = "text{font:11px -apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif}.title{font-size:14px;font-weight:600}"

function escapeXml (text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`

/**
 * The history as a contribution-graph card: a column per week (Sunday at the top), a cell per
 * day coloured by its level, each with a `<title>` giving the date and the time; the totals and
 * the streak below, the status now in the top corner. `report` covers cardStart(today) to today.
 */
export function renderCard (report: HistoryReport, { weeks, metric, theme, status }: CardOptions): string {
  const width = Math.max(MIN_WIDTH, PAD + LABELS + weeks * STEP - (STEP - CELL) + PAD)
  const gridLeft = PAD + LABELS
  const total = report.totals[metric]
  const caption = `${durationText(total)} ${metric} in the last ${plural(weeks, 'week')}`
  const streak = `streak ${plural(report.streak.current, 'day')} · longest ${plural(report.streak.longest, 'day')}`
  const heading = `Claude Code: ${caption}; ${streak}; now ${status}`

  const cells: string[] = []
  const months: string[] = []
  let lastMonth = ''
  report.days.forEach((day: DaySeconds, index) => {
    const column = Math.floor(index / 7)
    const x = gridLeft + column * STEP
    const seconds = day[metric]
    const time = seconds > 0 ? `${durationText(seconds)} ${metric}` : 'no activity'
    cells.push(`<rect x="${x}" y="${GRID_TOP + (index % 7) * STEP}" width="${CELL}" height="${CELL}" rx="2" class="l${levelOf(seconds)}"><title>${escapeXml(`${day.date}: ${time}`)}</title></rect>`)
    const month = day.date.slice(5, 7)
    if (index % 7 === 0 && month !== lastMonth) {
      // A month is named above the first week that starts in it, if there is room before the next.
      if (lastMonth !== '' || day.date.slice(8) <= '07') months.push(`<text x="${x}" y="${GRID_TOP - 8}" class="mute">${MONTHS[Number(month) - 1]}</text>`)
      lastMonth = month
    }
  })
  const weekdays = WEEKDAY_LABELS.map(([row, label]) => `<text x="${PAD}" y="${GRID_TOP + row * STEP + CELL - 1}" class="mute">${label}</text>`)
  const legendLeft = width - PAD - 5 * STEP - 28
  const legend = LEGEND.map((title, level) =>
    `<rect x="${legendLeft + level * STEP}" y="${HEIGHT - PAD - 9}" width="${CELL}" height="${CELL}" rx="2" class="l${level}"><title>${title}</title></rect>`)

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" role="img" aria-labelledby="title">` +
    `<title id="title">${escapeXml(heading)}</title>` +
    `<style>${THEME_CSS[theme]}${FONT}</style>` +
    `<rect x=".5" y=".5" width="${width - 1}" height="${HEIGHT - 1}" rx="6" class="bg"/>` +
    `<text x="${PAD}" y="${PAD + 12}" class="fg title">Claude Code</text>` +
    `<g><title>now ${status}</title><circle cx="${width - PAD - 4}" cy="${PAD + 7}" r="4" class="${status}"/>` +
    `<text x="${width - PAD - 14}" y="${PAD + 11}" text-anchor="end" class="mute">${status}</text></g>` +
    months.join('') + weekdays.join('') + cells.join('') +
    `<text x="${PAD}" y="${HEIGHT - PAD - 20}" class="fg">${escapeXml(caption)}</text>` +
    `<text x="${PAD}" y="${HEIGHT - PAD}" class="mute">${escapeXml(streak)}</text>` +
    `<text x="${legendLeft - 6}" y="${HEIGHT - PAD}" text-anchor="end" class="mute">less</text>` + legend.join('') +
    `<text x="${legendLeft + 5 * STEP + 2}" y="${HEIGHT - PAD}" class="mute">more</text>` +
    '</svg>'
}
