import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { claudeCodeMissing } from '../helpers/claude-code/binary.ts'

const BENCH = fileURLToPath(new URL('../../dist/bench/hooks.js', import.meta.url))

// A dozen CLI starts, each about a second, more on a busy machine.
t.setTimeout(120_000)

// A smoke run: one round of each variant with the real CLI. It checks that the hooks bench works, that
// the hooks it times told the service what they should, and that it writes what it says; how fast
// anything was is for `npm run bench:hooks`.
t.test('the hooks bench runs the real Claude Code end to end and writes its table and JSON', { skip: claudeCodeMissing ?? false }, async (t) => {
  if (!existsSync(BENCH)) return t.fail('dist/bench/hooks.js is missing: run npm run build && npm run build:bench (npm test does)')
  const out = t.testdir()
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, '--rounds', '1', '--calls', '2', '--starts', '1', '--out', out, '--name', 'smoke'])
  t.match(stdout, /\| added by cc-live, sharing model, project, tool \| -?[\d.]+ ms \|/, 'rows are printed as they are measured')
  const { rows } = JSON.parse(readFileSync(`${out}/smoke.json`, 'utf8')) as { rows: Array<{ metric: string, value: number }> }
  t.same(rows.map(({ metric }) => metric), [
    'a Read tool call without hooks, median of 2',
    'added by hooks that do nothing',
    'added by cc-live, sharing nothing',
    'added by cc-live, sharing model, project, tool',
    'claude -p hello without hooks, start to exit, median of 1',
    'added by SessionStart only',
    'added by SessionStart and SessionEnd'
  ], 'every variant measured')
  t.ok(rows.every(({ value }) => Number.isFinite(value)), 'each a number of ms')
  t.ok((rows[0]?.value ?? 0) > 0 && (rows[4]?.value ?? 0) > 0, 'the times without hooks are times')
  t.match(readFileSync(`${out}/smoke.md`, 'utf8'), /^\| metric \| value \|/)
})
