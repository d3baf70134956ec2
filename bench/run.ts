/**
 * npm run bench [-- --full] [-- --runs 3]: measures the built service against the
 * node:http + ws floor (bench/reference-server.ts), each in its own process, driven
 * from this one. Writes <out>/<name>.json, .md and .svg.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fanOutChart } from './chart.js'
import { measureCrowd, measureHeartbeats } from './measure.js'
import { rows, table, TABLE_HEADER, tableLine, type RunResult } from './report.js'
import type { ServerName } from './servers.js'

const { values: args } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    viewers: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '1' },
    flips: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    expiries: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '2' },
    'heartbeat-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/results', import.meta.url)) },
    name: { type: 'string', default: 'latest' }
  }
})

function count (option: string, value: string): number {
  const number = Number(value)
  if (!(number >= 0)) throw new Error(`--${option} must be a non-negative number, not ${value}`)
  return number
}

const viewerCounts = (args.full ? '1000,2500,5000,10000' : args.viewers).split(',').map((value) => count('viewers', value))
const options = {
  viewerCounts,
  runs: count('runs', args.runs),
  flips: count('flips', args.flips),
  warmupFlips: count('warmup', args.warmup),
  expiries: count('expiries', args.expiries),
  ttlSeconds: count('ttl', args.ttl),
  heartbeat: { seconds: count('heartbeat-seconds', args['heartbeat-seconds']), connections: count('connections', args.connections) }
}

function gitCommit (): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  loadAverageAtStart: loadavg(),
  commit: gitCommit(),
  date: new Date().toISOString()
}

function progress (name: ServerName, total: number): (connected: number) => void {
  const every = Math.max(1, Math.round(total / 10))
  return (connected) => {
    if (connected % every !== 0 && connected !== total) return
    const line = `  ${name}: ${connected}/${total} viewers connected`
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${connected === total ? '\n' : ''}`)
    else process.stderr.write(`${line}\n`)
  }
}

console.log(`cc-live vs floor on ${machine.cpu} (${machine.cores} cores), node ${machine.node}, load ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')}`)
const runs: RunResult[] = []
for (let run = 0; run < options.runs; run++) {
  console.log(`\nrun ${run + 1} of ${options.runs}\n${TABLE_HEADER}`)
  const result: RunResult = { crowds: [] }
  runs.push(result)
  for (const [index, viewers] of viewerCounts.entries()) {
    // Alternate which server goes first, so drift in the machine's load does not favour one.
    const order: ServerName[] = (run + index) % 2 === 0 ? ['cc-live', 'floor'] : ['floor', 'cc-live']
    const measured: Partial<RunResult['crowds'][number]> = {}
    for (const name of order) {
      measured[name] = await measureCrowd(name, { ...options, viewers, onProgress: progress(name, viewers) })
    }
    result.crowds.push(measured as RunResult['crowds'][number])
    for (const row of rows([result], [viewers], false)) console.log(tableLine(row))
  }
  result.heartbeats = {
    atWarn: {
      'cc-live': await measureHeartbeats('cc-live', 'warn', options.heartbeat),
      floor: await measureHeartbeats('floor', 'warn', options.heartbeat)
    },
    ccLiveAtInfo: await measureHeartbeats('cc-live', 'info', options.heartbeat)
  }
  for (const row of rows([result], []).filter((row) => row.key.startsWith('heartbeat'))) console.log(tableLine(row))
}

const combined = rows(runs, viewerCounts)
const summary = table(combined)
const caption = `${options.runs > 1 ? `median of ${options.runs} runs, ` : ''}${machine.cpu}, ${machine.cores} cores, node ${machine.node}`
console.log(`\n${options.runs > 1 ? `median of ${options.runs} runs` : 'result'}\n${summary}`)

mkdirSync(args.out, { recursive: true })
const base = join(args.out, args.name)
writeFileSync(`${base}.json`, JSON.stringify({ machine: { ...machine, loadAverageAtEnd: loadavg() }, options, rows: combined, runs }, null, 2) + '\n')
writeFileSync(`${base}.md`, `${caption}\n\n${summary}\n`)
writeFileSync(`${base}.svg`, fanOutChart(combined, caption))
console.log(`\nwrote ${base}.json, .md and .svg`)
