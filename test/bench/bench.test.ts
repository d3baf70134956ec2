import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import type { Row } from '../../bench/report.ts'
import { redisMissing } from '../helpers/redis-server.ts'

const BENCH = fileURLToPath(new URL('../../dist/bench/run.js', import.meta.url))

// Five server processes start and stop in turn; on a busy machine that can pass the default 30 s.
t.setTimeout(120_000)

// A smoke run: both servers start, take viewers, flip once, expire once and answer heartbeats.
// It checks that the bench works and what it counts; how fast anything was is for `npm run bench`.
t.test('the bench runs end to end against both servers and writes its table, JSON and chart', async (t) => {
  if (!existsSync(BENCH)) return t.fail('dist/bench/run.js is missing: run npm run build && npm run build:bench (npm test does)')
  const out = t.testdir()
  const { stdout } = await promisify(execFile)(process.execPath, [
    BENCH, '--viewers', '5', '--warmup', '0', '--flips', '1', '--expiries', '1', '--ttl', '0.3', '--memory-settle', '0',
    '--heartbeat-seconds', '0.5', '--heartbeat-rounds', '1', '--heartbeat-sequential', '20', '--connections', '2', '--out', out, '--name', 'smoke'
  ])
  t.match(stdout, /\| fan-out median, 5 viewers \|/, 'rows are printed as they are measured')

  const { rows } = JSON.parse(readFileSync(`${out}/smoke.json`, 'utf8')) as { rows: Row[] }
  const row = (key: string) => rows.find((candidate) => candidate.key === key) as Row
  for (const key of ['fan-out-median', 'fan-out-max', 'expiry-lateness-max', 'heartbeat-throughput', 'heartbeat-throughput-info']) {
    t.ok(row(key).ccLive > 0 && row(key).floor > 0, `${key} measured for both servers`)
  }
  for (const key of ['rss-per-idle-viewer', 'rss-per-idle-sse-viewer', 'sse-to-websocket-memory']) {
    t.ok(Number.isFinite(row(key).ccLive) && Number.isFinite(row(key).floor), `${key}: memory read from both processes`)
  }
  for (const key of ['missed', 'duplicated', 'heartbeat-failures']) {
    t.same([row(key).ccLive, row(key).floor], [0, 0], `no ${key} for either server`)
  }
  t.match(readFileSync(`${out}/smoke.md`, 'utf8'), /\| metric \| cc-live \| floor \| ratio \|/)
  t.match(readFileSync(`${out}/smoke.svg`, 'utf8'), /^<svg [^>]*>[\s\S]*<polyline [\s\S]*<\/svg>\n$/)
})

// The same for --replicas: a redis-server, replicas and one process, each with a few viewers.
t.test('the bench runs replicas on Redis against one process and writes its table and JSON', { skip: redisMissing }, async (t) => {
  if (!existsSync(BENCH)) return t.fail('dist/bench/run.js is missing: run npm run build && npm run build:bench (npm test does)')
  const out = t.testdir()
  const { stdout } = await promisify(execFile)(process.execPath, [
    BENCH, '--replicas', '2', '--viewers', '5', '--warmup', '0', '--flips', '2', '--hop-flips', '2', '--memory-settle', '0', '--out', out
  ])
  t.match(stdout, /\| fan-out per viewer reached /, 'the table is printed')
  const { rows } = JSON.parse(readFileSync(`${out}/replicas.json`, 'utf8')) as { rows: Row[] }
  const row = (key: string) => rows.find((candidate) => candidate.key === key) as Row
  for (const key of ['replica-fan-out-median', 'replica-alone-p50', 'replica-answer-p50']) {
    t.ok(row(key).ccLive > 0 && row(key).floor > 0, `${key} measured for replicas and one process`)
  }
  t.ok(Number.isFinite(row('replica-redis-hop-p50').ccLive), 'the hop is reported')
  for (const key of ['replica-missed', 'replica-duplicated']) t.same([row(key).ccLive, row(key).floor], [0, 0], `no ${key.slice(8)} messages`)
  t.match(readFileSync(`${out}/replicas.md`, 'utf8'), /\| metric \| replicas \| 1 process \| ratio \|/)
})
