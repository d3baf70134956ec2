import type { HeartbeatLoad } from './heartbeat-load.ts'
import type { CrowdResult } from './measure.ts'
import type { Pair } from './servers.ts'
import { median } from './statistics.ts'

export interface RunResult {
  /** One entry per viewer count, in the order measured. */
  crowds: Array<Pair<CrowdResult>>
  heartbeats?: { atWarn: Pair<HeartbeatLoad>, ccLiveAtInfo: HeartbeatLoad }
}

export type Target =
  | { ratioAtMost: number }
  | { ratioAtLeast: number }
  | { atMost: number }
  | { below: number }
  | { equals: number }

interface Metric {
  /** Stable name of what is measured, without the viewer count: e.g. fan-out-median. */
  key: string
  viewers?: number
  label: string
  unit: string
  /** Both servers' figure in one run, if that run measured it. */
  read: (run: RunResult) => Pair<number> | undefined
  /** How the figures of several runs become one: noisy timings by median, message counts by sum. */
  combine: (values: number[]) => number
  target?: Target
}

export interface Row {
  key: string
  viewers?: number
  metric: string
  unit: string
  ccLive: number
  floor: number
  /** cc-live / floor */
  ratio: number
  target: string
  /** null where the row has no target or no figure */
  pass: boolean | null
}

/** A numeric command-line option of at least `least`; fails naming the option. */
export function numberOption (option: string, value: string, least: number): number {
  const number = Number(value)
  if (!(number >= least)) throw new Error(`--${option} must be a number of at least ${least}, not ${value}`)
  return number
}

const max = (values: number[]): number => values.length === 0 ? NaN : Math.max(...values)
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0)

function crowdMetrics (viewers: number): Metric[] {
  const read = (figure: (result: CrowdResult) => number) => (run: RunResult): Pair<number> | undefined => {
    const crowd = run.crowds.find((pair) => pair['cc-live'].viewers === viewers)
    return crowd && { 'cc-live': figure(crowd['cc-live']), floor: figure(crowd.floor) }
  }
  const at = `${viewers} viewers`
  return [
    { key: 'fan-out-median', viewers, label: `fan-out median, ${at}`, unit: 'ms', read: read((r) => median(r.fanOutMs)), combine: median, ...(viewers >= 5000 && { target: { ratioAtMost: 1.15 } }) },
    { key: 'fan-out-max', viewers, label: `fan-out max, ${at}`, unit: 'ms', read: read((r) => max(r.fanOutMs)), combine: median },
    { key: 'rss-per-idle-viewer', viewers, label: `RSS per idle viewer, ${at}`, unit: 'KiB', read: read((r) => r.rssPerViewerBytes / 1024), combine: median, target: { ratioAtMost: 1.5 } },
    { key: 'rss-per-idle-sse-viewer', viewers, label: `RSS per idle event-stream viewer, ${at}`, unit: 'KiB', read: read((r) => r.sseRssPerViewerBytes / 1024), combine: median, target: { ratioAtMost: 1.5 } },
    // Each server against itself: what an event-stream viewer costs next to a WebSocket one.
    { key: 'sse-to-websocket-memory', viewers, label: `event-stream viewer memory / WebSocket viewer memory, ${at}`, unit: 'x', read: read((r) => r.sseRssPerViewerBytes / r.rssPerViewerBytes), combine: median, target: { atMost: 1.3 } },
    { key: 'expiry-lateness-max', viewers, label: `expiry lateness max, ${at}`, unit: 'ms', read: read((r) => max(r.expiryLatenessMs)), combine: median, target: { below: 1000 } },
    { key: 'missed', viewers, label: `missed messages, ${at}`, unit: '', read: read((r) => r.missed), combine: sum, target: { equals: 0 } },
    { key: 'duplicated', viewers, label: `duplicated messages, ${at}`, unit: '', read: read((r) => r.duplicated), combine: sum, target: { equals: 0 } }
  ]
}

function heartbeatMetrics (): Metric[] {
  const read = (figure: (load: HeartbeatLoad) => number, ccLiveAtInfo = false) => ({ heartbeats }: RunResult): Pair<number> | undefined =>
    heartbeats && { 'cc-live': figure(ccLiveAtInfo ? heartbeats.ccLiveAtInfo : heartbeats.atWarn['cc-live']), floor: figure(heartbeats.atWarn.floor) }
  return [
    { key: 'heartbeat-throughput', label: 'heartbeat throughput', unit: 'req/s', read: read((h) => h.requestsPerSecond), combine: median, target: { ratioAtLeast: 0.8 } },
    { key: 'heartbeat-cpu', label: 'server CPU per heartbeat under that load', unit: 'µs', read: read((h) => h.cpuMicrosPerRequest), combine: median },
    { key: 'heartbeat-loaded-p99', label: 'heartbeat latency p99 under that load', unit: 'ms', read: read((h) => h.loadedP99Ms), combine: median },
    { key: 'heartbeat-latency-p50', label: 'heartbeat latency p50, one at a time', unit: 'ms', read: read((h) => h.latencyP50Ms), combine: median },
    { key: 'heartbeat-latency-p99', label: 'heartbeat latency p99, one at a time', unit: 'ms', read: read((h) => h.latencyP99Ms), combine: median },
    { key: 'heartbeat-failures', label: 'heartbeat failures', unit: '', read: read((h) => h.failed), combine: sum, target: { equals: 0 } },
    { key: 'heartbeat-throughput-info', label: 'heartbeat throughput, cc-live at LOG_LEVEL=info', unit: 'req/s', read: read((h) => h.requestsPerSecond, true), combine: median },
    { key: 'heartbeat-cpu-info', label: 'server CPU per heartbeat, cc-live at LOG_LEVEL=info', unit: 'µs', read: read((h) => h.cpuMicrosPerRequest, true), combine: median },
    { key: 'heartbeat-latency-p50-info', label: 'heartbeat latency p50, one at a time, cc-live at LOG_LEVEL=info', unit: 'ms', read: read((h) => h.latencyP50Ms, true), combine: median }
  ]
}

function describe (target: Target): string {
  if ('ratioAtMost' in target) return `≤ ${target.ratioAtMost}x`
  if ('ratioAtLeast' in target) return `≥ ${target.ratioAtLeast}x`
  if ('atMost' in target) return `≤ ${target.atMost}`
  if ('below' in target) return `< ${target.below}`
  return `= ${target.equals}`
}

function meets (target: Target, ccLive: number, ratio: number): boolean {
  if ('ratioAtMost' in target) return ratio <= target.ratioAtMost
  if ('ratioAtLeast' in target) return ratio >= target.ratioAtLeast
  if ('atMost' in target) return ccLive <= target.atMost
  if ('below' in target) return ccLive < target.below
  return ccLive === target.equals
}

function toRow (metric: Metric, runs: RunResult[]): Row | undefined {
  const pairs = runs.map(metric.read).filter((pair) => pair !== undefined)
  if (pairs.length === 0) return undefined
  const ccLive = metric.combine(pairs.map((pair) => pair['cc-live']))
  const floor = metric.combine(pairs.map((pair) => pair.floor))
  const ratio = ccLive / floor
  return {
    key: metric.key,
    ...(metric.viewers !== undefined && { viewers: metric.viewers }),
    metric: metric.label,
    unit: metric.unit,
    ccLive,
    floor,
    ratio,
    target: metric.target ? describe(metric.target) : '',
    // A figure not measured (no flips asked for, say) has no verdict; a change never delivered shows as missed.
    pass: metric.target && Number.isFinite(ccLive) ? meets(metric.target, ccLive, ratio) : null
  }
}

/** A row comparing a figure with a baseline's (the columns read cc-live and floor in the main table). */
export function comparisonRow (key: string, metric: string, unit: string, measured: number, baseline: number, target?: Target): Row {
  const ratio = measured / baseline
  return {
    key,
    metric,
    unit,
    ccLive: measured,
    floor: baseline,
    ratio,
    target: target ? describe(target) : '',
    pass: target && Number.isFinite(measured) ? meets(target, measured, ratio) : null
  }
}

/** Rows for the given viewer counts (and the heartbeat rows, once measured), combined over runs. */
export function rows (runs: RunResult[], viewerCounts: number[], withHeartbeats = true): Row[] {
  const metrics = [...viewerCounts.flatMap(crowdMetrics), ...(withHeartbeats ? heartbeatMetrics() : [])]
  return metrics.map((metric) => toRow(metric, runs)).filter((row) => row !== undefined)
}

function figure (value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (Number.isInteger(value)) return String(value)
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 2)
}

export const TABLE_HEADER = '| metric | cc-live | floor | ratio | target | met |\n|---|--:|--:|--:|--|--|'

export function tableLine (row: Row): string {
  const unit = row.unit === '' ? '' : ` ${row.unit}`
  const verdict = row.pass === null ? '' : row.pass ? 'yes' : '**no**'
  return `| ${row.metric} | ${figure(row.ccLive)}${unit} | ${figure(row.floor)}${unit} | ${figure(row.ratio)} | ${row.target} | ${verdict} |`
}

export function table (tableRows: Row[], header = TABLE_HEADER): string {
  return [header, ...tableRows.map(tableLine)].join('\n')
}
