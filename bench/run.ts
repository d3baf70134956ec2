/**
 * npm run bench [-- --full] [-- --runs 3]: measures the built service against the
 * node:http + ws floor (bench/reference-server.ts), each in its own process, driven
 * from this one. Writes <out>/<name>.json, .md and .svg. --cpu-prof DIR profiles the
 * servers (node --cpu-prof) into DIR.
 *
 * npm run bench -- --replicas 3: instead, that many replicas on a fresh redis-server, each with
 * --viewers viewers, against one process with as many (bench/replicas.ts). Writes
 * <out>/<name>.json and .md (name: replicas unless given).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fanOutChart } from './chart.ts'
import { measureCrowds, measureHeartbeats } from './measure.ts'
import { measureReplicas, REPLICA_TABLE_HEADER, replicaRows } from './replicas.ts'
import { numberOption, type Row, rows, type RunResult, table, TABLE_HEADER, tableLine } from './report.ts'

const { values: args } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    viewers: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '1' },
    flips: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    expiries: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '2' },
    'memory-settle': { type: 'string', default: '10' },
    'heartbeat-seconds': { type: 'string', default: '1' },
    'heartbeat-rounds': { type: 'string', default: '10' },
    'heartbeat-sequential': { type: 'string', default: '1000' },
    connections: { type: 'string', default: '10' },
    'hop-flips': { type: 'string', default: '100' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/results', import.meta.url)) },
    name: { type: 'string' },
    replicas: { type: 'string' },
    'cpu-prof': { type: 'string' }
  }
})

const viewerCounts = (args.full ? '1000,2500,5000,10000' : args.viewers).split(',').map((value) => numberOption('viewers', value, 0))
const options = {
  viewerCounts,
  runs: numberOption('runs', args.runs, 0),
  flips: numberOption('flips', args.flips, 0),
  warmupFlips: numberOption('warmup', args.warmup, 0),
  expiries: numberOption('expiries', args.expiries, 0),
  ttlSeconds: numberOption('ttl', args.ttl, 0),
  memorySettleSeconds: numberOption('memory-settle', args['memory-settle'], 0),
  heartbeat: {
    seconds: numberOption('heartbeat-seconds', args['heartbeat-seconds'], 0),
    rounds: numberOption('heartbeat-rounds', args['heartbeat-rounds'], 0),
    sequential: numberOption('heartbeat-sequential', args['heartbeat-sequential'], 0),
    connections: numberOption('connections', args.connections, 0)
  },
  nodeArgs: args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']]
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

function progress (total: number): (name: string, connected: number) => void {
  const every = Math.max(1, Math.round(total / 10))
  return (name, connected) => {
    if (connected % every !== 0 && connected !== total) return
    const line = `  ${name}: ${connected}/${total} viewers connected`
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${connected === total ? '\n' : ''}`)
    else process.stderr.write(`${line}\n`)
  }
}

mkdirSync(args.out, { recursive: true })
const load = machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')

if (args.replicas !== undefined) {
  const replicas = numberOption('replicas', args.replicas, 0)
  console.log(`cc-live, ${replicas} replicas on Redis vs 1 process, on ${machine.cpu} (${machine.cores} cores), node ${machine.node}, load ${load}`)
  const results = []
  const measured: Row[] = []
  for (const viewers of viewerCounts) {
    const result = await measureReplicas({ ...options, replicas, viewers, hopFlips: numberOption('hop-flips', args['hop-flips'], 0), onProgress: progress(viewers) })
    results.push(result)
    const resultRows = replicaRows(result)
    measured.push(...resultRows)
    console.log(`\n${table(resultRows, REPLICA_TABLE_HEADER)}`)
  }
  const base = join(args.out, args.name ?? 'replicas')
  writeFileSync(`${base}.json`, JSON.stringify({ machine: { ...machine, loadAverageAtEnd: loadavg() }, options: { ...options, replicas }, rows: measured, results }, null, 2) + '\n')
  writeFileSync(`${base}.md`, `${replicas} replicas on Redis vs 1 process, ${machine.cpu}, ${machine.cores} cores, node ${machine.node}\n\n${table(measured, REPLICA_TABLE_HEADER)}\n`)
  console.log(`\nwrote ${base}.json and .md`)
  // Nothing of the floor comparison below runs; stdout and files are written synchronously here.
  process.exit(0)
}

console.log(`cc-live vs floor on ${machine.cpu} (${machine.cores} cores), node ${machine.node}, load ${load}`)
const runs: RunResult[] = []
const heartbeatOptions = { ...options.heartbeat, nodeArgs: options.nodeArgs }
for (let run = 0; run < options.runs; run++) {
  console.log(`\nrun ${run + 1} of ${options.runs}\n${TABLE_HEADER}`)
  const result: RunResult = { crowds: [] }
  runs.push(result)
  for (const viewers of viewerCounts) {
    result.crowds.push(await measureCrowds({ ...options, viewers, onProgress: progress(viewers) }))
    for (const row of rows([result], [viewers], false)) console.log(tableLine(row))
  }
  const heartbeats = await measureHeartbeats({
    'cc-live': { name: 'cc-live', logLevel: 'warn' },
    floor: { name: 'floor', logLevel: 'warn' },
    'cc-live at info': { name: 'cc-live', logLevel: 'info' }
  }, heartbeatOptions)
  result.heartbeats = {
    atWarn: { 'cc-live': heartbeats['cc-live'], floor: heartbeats.floor },
    ccLiveAtInfo: heartbeats['cc-live at info']
  }
  for (const row of rows([result], []).filter((row) => row.key.startsWith('heartbeat'))) console.log(tableLine(row))
}

const combined = rows(runs, viewerCounts)
const summary = table(combined)
const caption = `${options.runs > 1 ? `median of ${options.runs} runs, ` : ''}${machine.cpu}, ${machine.cores} cores, node ${machine.node}`
console.log(`\n${options.runs > 1 ? `median of ${options.runs} runs` : 'result'}\n${summary}`)

const base = join(args.out, args.name ?? 'latest')
writeFileSync(`${base}.json`, JSON.stringify({ machine: { ...machine, loadAverageAtEnd: loadavg() }, options, rows: combined, runs }, null, 2) + '\n')
writeFileSync(`${base}.md`, `${caption}\n\n${summary}\n`)
writeFileSync(`${base}.svg`, fanOutChart(combined, caption))
console.log(`\nwrote ${base}.json, .md and .svg`)
