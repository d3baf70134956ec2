import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const BENCH = fileURLToPath(new URL('../../dist/bench/history.js', import.meta.url))

t.setTimeout(120_000)

// A smoke run: a few days of history, a few requests, a few viewers. It checks that the history bench
// works and measures what it says; how fast anything was is for `npm run bench:history`.
t.test('the history bench runs end to end and writes its table and JSON', async (t) => {
  if (!existsSync(BENCH)) return t.fail('dist/bench/history.js is missing: run npm run build && npm run build:bench (npm test does)')
  const out = t.testdir()
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, '--days', '10', '--requests', '5', '--viewers', '5', '--flips', '2', '--out', out, '--name', 'smoke'])
  t.match(stdout, /\| GET \/ws\/live\/history\.svg \(52 weeks\) p99 \| [\d.]+ ms \|/, 'rows are printed as they are measured')
  const { rows } = JSON.parse(readFileSync(`${out}/smoke.json`, 'utf8')) as { rows: Array<{ metric: string, value: number }> }
  const value = (metric: string) => rows.find((row) => row.metric === metric)?.value
  t.ok((value('sessions in the history') ?? 0) > 0, 'history was written')
  for (const metric of ['GET /ws/live/history (400 days) p50', 'fan-out median, 5 viewers, history on', 'fan-out median, 5 viewers, history off']) {
    t.ok((value(metric) ?? 0) > 0, `${metric} measured`)
  }
  t.equal(value('missed or duplicated messages'), 0)
  t.match(readFileSync(`${out}/smoke.md`, 'utf8'), /^\| metric \| value \|/)
})
