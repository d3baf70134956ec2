import type { Row } from './report.ts'
import type { ServerName } from './servers.ts'

interface FanOutPoint {
  viewers: number
  medianMs: number
  maxMs: number
}

const WIDTH = 640
const HEIGHT = 400
const MARGIN = { top: 48, right: 24, bottom: 56, left: 64 }
const COLORS: Record<ServerName, string> = { 'cc-live': '#d9480f', floor: '#1c7ed6' }

/** A round step giving about `count` ticks up to `top`. */
function tickStep (top: number, count: number): number {
  const rough = top / count
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough)
  return step ?? rough
}

function fanOutSeries (rows: Row[]): Record<ServerName, FanOutPoint[]> {
  const series: Record<ServerName, FanOutPoint[]> = { 'cc-live': [], floor: [] }
  for (const medianRow of rows.filter((row) => row.key === 'fan-out-median')) {
    const maxRow = rows.find((row) => row.key === 'fan-out-max' && row.viewers === medianRow.viewers)
    const viewers = medianRow.viewers as number
    series['cc-live'].push({ viewers, medianMs: medianRow.ccLive, maxMs: maxRow?.ccLive ?? NaN })
    series.floor.push({ viewers, medianMs: medianRow.floor, maxMs: maxRow?.floor ?? NaN })
  }
  return series
}

/** Fan-out latency against viewer count from the table's rows: median solid, max dashed, one colour per server. */
export function fanOutChart (rows: Row[], caption: string): string {
  const series = fanOutSeries(rows)
  const points = Object.values(series).flat().filter((point) => Number.isFinite(point.maxMs))
  const viewerCounts = [...new Set(points.map((point) => point.viewers))].sort((a, b) => a - b)
  const maxViewers = Math.max(...viewerCounts, 1)
  const step = tickStep(Math.max(...points.map((point) => point.maxMs), 1), 5)
  const topMs = Math.ceil(Math.max(...points.map((point) => point.maxMs), 1) / step) * step
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  const x = (viewers: number) => (MARGIN.left + (viewers / maxViewers) * plotWidth).toFixed(1)
  const y = (ms: number) => (MARGIN.top + plotHeight - (ms / topMs) * plotHeight).toFixed(1)

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">Fan-out: request sent → every viewer has the new state</text>`,
    `<text x="${WIDTH / 2}" y="36" text-anchor="middle" fill="#555">${escape(caption)}</text>`
  ]
  for (let ms = 0; ms <= topMs; ms += step) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(ms)}" y2="${y(ms)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(ms)}" text-anchor="end" dominant-baseline="middle">${Number(ms.toPrecision(6))}</text>`)
  }
  for (const viewers of viewerCounts) {
    parts.push(`<text x="${x(viewers)}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle">${viewers}</text>`)
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${y(0)}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle">open viewers</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">milliseconds</text>`
  )
  for (const [index, [name, serverPoints]] of Object.entries(series).entries()) {
    const color = COLORS[name as ServerName]
    const measured = serverPoints.filter((point) => Number.isFinite(point.maxMs))
    for (const [key, dash] of [['medianMs', ''], ['maxMs', ' stroke-dasharray="5 4"']] as const) {
      const path = measured.map((point) => `${x(point.viewers)},${y(point[key])}`).join(' ')
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`)
      for (const point of measured) parts.push(`<circle cx="${x(point.viewers)}" cy="${y(point[key])}" r="3" fill="${color}"/>`)
    }
    const legendY = MARGIN.top + 8 + index * 18
    parts.push(`<line x1="${MARGIN.left + 12}" x2="${MARGIN.left + 36}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 42}" y="${legendY}" dominant-baseline="middle">${name}: median (solid), max (dashed)</text>`)
  }
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
