/**
 * npm run bench:history: the history under a year of it. Writes a year of synthetic history (a
 * session every few minutes on most days, through the real recorder), serves it from the built
 * service, and measures GET /ws/live/history (365 and 400 days) and history.svg one request at a
 * time; then the fan-out to viewers of two fresh servers, history recorded to a file and history
 * off, in turns. Writes <out>/<name>.json and .md.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { inTurn, LoadProcess } from './measure.ts'
import { numberOption } from './report.ts'
import { serverRequest, ServerProcess } from './servers.ts'
import { median, percentile } from './statistics.ts'
import { writeSyntheticHistory } from './synthetic-history.ts'

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    requests: { type: 'string', default: '500' },
    viewers: { type: 'string', default: '2000' },
    flips: { type: 'string', default: '20' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/results', import.meta.url)) },
    name: { type: 'string', default: 'history' }
  }
})

const days = numberOption('days', args.days, 1)
const requests = numberOption('requests', args.requests, 1)
const viewers = numberOption('viewers', args.viewers, 1)
const flips = numberOption('flips', args.flips, 1)

const dir = mkdtempSync(join(tmpdir(), 'cc-live-bench-history-'))
const rows: Array<{ metric: string, value: number, unit: string }> = []
const row = (metric: string, value: number, unit: string) => {
  rows.push({ metric, value, unit })
  console.log(`| ${metric} | ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit} |`)
}

/** `requests` GETs one at a time after a few to warm up: the latencies in ms, sorted. */
async function latencies (server: ServerProcess, path: string): Promise<number[]> {
  const times: number[] = []
  for (let i = -20; i < requests; i++) {
    const sentAt = performance.now()
    const { status } = await serverRequest(server.port, 'GET', path)
    if (status !== 200) throw new Error(`GET ${path}: ${status}`)
    if (i >= 0) times.push(performance.now() - sentAt)
  }
  return times.sort((a, b) => a - b)
}

const addDays = (date: string, count: number) => new Date(Date.parse(`${date}T00:00:00Z`) + count * 86_400_000).toISOString().slice(0, 10)

try {
  console.log(`history bench on ${cpus()[0]?.model} (${availableParallelism()} cores), node ${process.version}, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
  const seeded = join(dir, 'seeded.db')
  const writeStart = performance.now()
  const sessions = await writeSyntheticHistory(seeded, { days })
  console.log(`wrote ${sessions} sessions over ${days} days in ${((performance.now() - writeStart) / 1000).toFixed(1)} s\n\n| metric | value |\n|---|--:|`)
  row('sessions in the history', sessions, '')

  const file = join(dir, 'served.db')
  copyFileSync(seeded, file)
  const server = await ServerProcess.start('cc-live', { ttlSeconds: 60, logLevel: 'warn', env: { CC_LIVE_HISTORY_FILE: file } })
  try {
    const today = (JSON.parse((await serverRequest(server.port, 'GET', '/ws/live/history')).body) as { today: { date: string } }).today.date
    for (const [label, path] of [
      ['GET /ws/live/history (365 days)', '/ws/live/history'],
      ['GET /ws/live/history (400 days)', `/ws/live/history?from=${addDays(today, -399)}`],
      ['GET /ws/live/history.svg (52 weeks)', '/ws/live/history.svg'],
      ['GET /ws/live/sessions?limit=100', '/ws/live/sessions?limit=100']
    ] as const) {
      const sorted = await latencies(server, path)
      row(`${label} p50`, percentile(sorted, 0.5), 'ms')
      row(`${label} p99`, percentile(sorted, 0.99), 'ms')
    }
  } finally {
    await server.stop()
  }

  // Two fresh servers with the same viewers, flipped in turns: does recording the history move the fan-out?
  copyFileSync(seeded, file)
  const setups = { 'history on': { CC_LIVE_HISTORY_FILE: file }, 'history off': { CC_LIVE_HISTORY: 'off' } }
  const servers: Record<string, ServerProcess> = {}
  const loads: Record<string, LoadProcess> = {}
  try {
    for (const [label, env] of Object.entries(setups)) {
      servers[label] = await ServerProcess.start('cc-live', { ttlSeconds: 60, logLevel: 'warn', env })
      loads[label] = new LoadProcess()
      await loads[label].connect((servers[label] as ServerProcess).port, viewers, 'websocket', () => {})
    }
    const fanOut: Record<string, number[]> = { 'history on': [], 'history off': [] }
    for (let turn = 0; turn < Math.ceil(flips / 2) + 1; turn++) {
      for (const [label, load] of inTurn(turn, loads)) {
        const ms = [await load.flip(), await load.flip()]
        if (turn > 0) fanOut[label]?.push(...ms)
      }
    }
    for (const label of Object.keys(setups)) {
      const sorted = (fanOut[label] ?? []).sort((a, b) => a - b)
      row(`fan-out median, ${viewers} viewers, ${label}`, median(sorted), 'ms')
      row(`fan-out max, ${viewers} viewers, ${label}`, sorted.at(-1) ?? NaN, 'ms')
    }
    const ratio = median(fanOut['history on'] ?? []) / median(fanOut['history off'] ?? [])
    row('fan-out median, history on / off', ratio, '')
    const counts = await Promise.all(Object.values(loads).map((load) => load.counts()))
    row('missed or duplicated messages', counts.reduce((sum, { missed, duplicated }) => sum + missed + duplicated, 0), '')
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()))
    await Promise.all(Object.values(loads).map((load) => load.stop()))
  }

  mkdirSync(args.out, { recursive: true })
  const base = join(args.out, args.name)
  const machine = { cpu: cpus()[0]?.model, cores: availableParallelism(), node: process.version, loadAverageAtEnd: loadavg(), date: new Date().toISOString() }
  writeFileSync(`${base}.json`, JSON.stringify({ machine, options: { days, requests, viewers, flips }, rows }, null, 2) + '\n')
  writeFileSync(`${base}.md`, `| metric | value |\n|---|--:|\n${rows.map(({ metric, value, unit }) => `| ${metric} | ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit} |`).join('\n')}\n`)
  console.log(`\nwrote ${base}.json and .md`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
