/**
 * The owner's history in the browser, served as /ws/live/history.js and loaded only by pages that
 * use it: the <cc-live-history> heatmap, and watchHistory() behind it and behind
 * <cc-live-status show="today">. It follows the live state over the status module's connection
 * (one per page, however many elements), so today's cell grows while its owner works.
 */
import { formatDuration, subscribe } from './cc-live-status.js'

/** @typedef {{ date: string, active: number, working: number, waiting: number }} Day */
/**
 * What GET /ws/live/history answers: seconds per day and in all, the streaks, today.
 * @typedef {{ timezone: string, from: string, to: string, days: Day[], totals: { active: number, working: number, waiting: number, activeDays: number }, streak: { current: number, longest: number }, today: Day, levels: number[] }} Report
 */
/** @typedef {'active' | 'working'} Metric */
/**
 * @typedef {object} WatchOptions
 * @property {Metric} [metric] what today's seconds count, active by default
 * @property {(today: string) => string} [from] the first day wanted, given today's date
 * @property {typeof fetch} [fetch]
 * @property {() => number} [now]
 * @property {import('./cc-live-status.js').Options} [live] options of the live connection
 */

const STATUSES_LIVE = ['working', 'waiting', 'idle', 'live']
const MINUTE = 60000
/** While the count runs, the server's figures are fetched again this often (a new day, another session). */
const REFRESH_MS = 10 * MINUTE
const noop = () => {}

/** "3 h 12 min", "<1 min", "0 min". @param {number} seconds */
export function formatSeconds (seconds) {
  return seconds > 0 ? formatDuration(new Date(0).toISOString(), seconds * 1000) : '0 min'
}

/** A date `days` after `date`, both YYYY-MM-DD. @param {string} date @param {number} days */
export function addDays (date, days) {
  const day = new Date(`${date}T00:00:00Z`)
  day.setUTCDate(day.getUTCDate() + days)
  return day.toISOString().slice(0, 10)
}

/** The Sunday `weeks - 1` weeks before the week of `today`: the heatmap's first day. @param {string} today @param {number} weeks */
export function gridStart (today, weeks) {
  return addDays(today, -(weeks - 1) * 7 - new Date(`${today}T00:00:00Z`).getUTCDay())
}

/**
 * Calls onReport with the server's history and today's seconds of the metric, now and whenever
 * they change: counted on in the browser while the live state says the metric is happening,
 * fetched again when it starts or stops. Returns the function that stops it.
 * @param {string} src the /ws/live endpoint, as <cc-live-status> takes it
 * @param {(report: Report, today: number) => void} onReport
 * @param {WatchOptions} [options]
 */
export function watchHistory (src, onReport, { metric = 'active', from, fetch = globalThis.fetch, now = Date.now, live } = {}) {
  const base = new URL(src, globalThis.location?.href)
  base.protocol = base.protocol.replace(/^ws/, 'http')
  /** @type {Report | null} */
  let report = null
  /** @type {string | undefined} */
  let first
  /** Milliseconds counted in the browser since the report, and since when the count runs (null: it does not). */
  let counted = 0
  /** @type {number | null} */
  let countingSince = null
  let stopped = false

  const emit = () => {
    if (!report || stopped) return
    const running = countingSince === null ? 0 : now() - countingSince
    const today = report.today[metric] + Math.floor((counted + running) / 1000)
    // While it is happening, today has some of it, even in its first second.
    onReport(report, countingSince === null ? today : Math.max(1, today))
  }
  const load = () => fetch(`${base.href}/history${first ? `?from=${first}` : ''}`, { cache: 'no-cache' })
    .then((response) => response.ok ? response.json() : Promise.reject(new Error(`${response.status}`)))
    .then((/** @type {Report} */ fetched) => {
      const wanted = from?.(fetched.today.date)
      report = fetched
      counted = 0
      if (countingSince !== null) countingSince = now()
      // The default range does not reach back far enough: ask again for what is wanted.
      if (wanted && wanted < fetched.from && !first) {
        first = wanted
        load()
      }
      emit()
    }, noop)

  const unsubscribe = subscribe(src, (view) => {
    // A string: the statuses a server reports grow with the protocol.
    const status = /** @type {string} */ (view.status)
    if (status === 'connecting' || status === 'reconnecting') return
    const counts = metric === 'working' ? status === 'working' : STATUSES_LIVE.includes(status)
    if (counts === (countingSince !== null)) return
    if (countingSince !== null) counted += now() - countingSince
    countingSince = counts ? now() : null
    load()
  }, live)
  load()
  const ticker = setInterval(emit, MINUTE)
  const refresher = setInterval(() => { if (countingSince !== null) load() }, REFRESH_MS)
  return () => {
    stopped = true
    unsubscribe()
    clearInterval(ticker)
    clearInterval(refresher)
  }
}

/**
 * For <cc-live-status show="today">: "3 h 12 min today", kept current.
 * @param {string} src @param {(text: string) => void} onText
 */
export function watchToday (src, onText) {
  return watchHistory(src, (_report, today) => onText(`${formatSeconds(today)} today`))
}

/** The level of a day's seconds: how many of the report's thresholds it reaches. @param {number} seconds @param {number[]} levels */
const levelOf = (seconds, levels) => levels.filter((threshold) => seconds >= threshold).length

/** @param {number} count @param {string} word */
const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`

const STYLE = `:host{display:inline-block;--l0:#ebedf0;--l1:#9be9a8;--l2:#40c463;--l3:#30a14e;--l4:#216e39}
@media (prefers-color-scheme:dark){:host{--l0:#161b22;--l1:#0e4429;--l2:#006d32;--l3:#26a641;--l4:#39d353}}
:host([hidden]){display:none}
[part=grid]{display:grid;grid-auto-flow:column;grid-template-rows:repeat(7,var(--cc-live-history-cell,10px));grid-auto-columns:var(--cc-live-history-cell,10px);gap:var(--cc-live-history-gap,3px)}
[part~=cell]{border-radius:2px;background:var(--cc-live-history-0,var(--l0))}
[data-level="1"]{background:var(--cc-live-history-1,var(--l1))}[data-level="2"]{background:var(--cc-live-history-2,var(--l2))}
[data-level="3"]{background:var(--cc-live-history-3,var(--l3))}[data-level="4"]{background:var(--cc-live-history-4,var(--l4))}
[part~=today]{outline:1px solid currentColor;outline-offset:1px}
[part=caption]{margin-top:.5em;font-size:.875em}`

if (globalThis.customElements && !customElements.get('cc-live-history')) {
  customElements.define('cc-live-history', class extends HTMLElement {
    #stop = noop
    /** @type {HTMLElement | null} */
    #grid = null
    /** @type {HTMLElement | null} */
    #caption = null

    connectedCallback () {
      const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' })
      root.innerHTML = `<style>${STYLE}</style><div part="grid" role="img"></div><div part="caption"></div>`
      this.#grid = root.querySelector('[part=grid]')
      this.#caption = root.querySelector('[part=caption]')
      const weeks = Math.min(53, Math.max(4, Number(this.getAttribute('weeks')) || 52))
      /** @type {Metric} */
      const metric = this.getAttribute('metric') === 'working' ? 'working' : 'active'
      this.#stop = watchHistory(this.getAttribute('src') ?? '/ws/live', (report, today) => this.#render(report, today, weeks, metric), {
        metric, from: (today) => gridStart(today, weeks)
      })
    }

    disconnectedCallback () {
      this.#stop()
    }

    /** @param {Report} report @param {number} todaySeconds @param {number} weeks @param {Metric} metric */
    #render (report, todaySeconds, weeks, metric) {
      const grid = this.#grid
      const caption = this.#caption
      if (!grid || !caption) return
      const today = report.today.date
      const seconds = new Map(report.days.map((day) => [day.date, day[metric]]))
      seconds.set(today, todaySeconds)
      const cells = []
      let total = 0
      for (let date = gridStart(today, weeks); date <= today; date = addDays(date, 1)) {
        const value = seconds.get(date) ?? 0
        total += value
        const title = `${date}: ${value > 0 ? `${formatSeconds(value)} ${metric}` : 'no activity'}`
        cells.push(`<span part="cell${date === today ? ' today' : ''}" data-level="${levelOf(value, report.levels)}" title="${title}"></span>`)
      }
      grid.innerHTML = cells.join('')
      const summary = `${formatSeconds(total)} ${metric} in the last ${plural(weeks, 'week')}`
      const streak = `streak ${plural(report.streak.current, 'day')} · longest ${plural(report.streak.longest, 'day')}`
      grid.setAttribute('aria-label', `Claude Code: ${summary}; ${streak}`)
      caption.textContent = `${summary} · ${streak}`
    }
  })
}
