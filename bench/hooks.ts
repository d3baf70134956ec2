/**
 * npm run bench:hooks: the time cc-live's hooks add to Claude Code, under the real CLI (offline,
 * against the fake Messages API of the hook tests) posting to the built service. Every variant runs
 * in turn, round after round, so the machine's drifting load hits each alike:
 * - a Read tool call in `claude -p`, from the end of the reply that asks for it to the request that
 *   carries its result: without hooks; with PreToolUse and PostToolUse hooks that do nothing
 *   (Claude Code's own cost of running a hook); with the hooks install.sh installs, sharing
 *   nothing (the default) and sharing model, project and tool;
 * - `claude -p hello` from start to exit: without hooks, with SessionStart only, with both.
 * Issue 12's target: the hooks add at most 15 ms to a tool call, at the median. Writes
 * <out>/<name>.json and .md.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { claudeCodeMissing, CLAUDE_CODE_VERSION } from '../test/helpers/claude-code/binary.ts'
import { held, startFakeAnthropic, toolUse } from '../test/helpers/claude-code/fake-anthropic.ts'
import { claudeHome, type ClaudeHome, type Cleanup } from '../test/helpers/claude-code/home.ts'
import { claudePrint } from '../test/helpers/claude-code/print-mode.ts'
import { numberOption } from './report.ts'
import { BENCH_KEY, serverRequest, ServerProcess } from './servers.ts'
import { median } from './statistics.ts'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    calls: { type: 'string', default: '8' },
    starts: { type: 'string', default: '6' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/results', import.meta.url)) },
    name: { type: 'string', default: 'hooks' }
  }
})

const rounds = numberOption('rounds', args.rounds, 1)
const calls = numberOption('calls', args.calls, 1)
const starts = numberOption('starts', args.starts, 1)
if (claudeCodeMissing !== null) throw new Error(claudeCodeMissing)

/** Edits the hooks in a home's settings. */
async function editHooks (home: ClaudeHome, edit: (hooks: Record<string, unknown>) => void): Promise<void> {
  const file = join(home.home, '.claude', 'settings.json')
  const settings = JSON.parse(await readFile(file, 'utf8')) as { hooks?: Record<string, unknown> }
  settings.hooks ??= {}
  edit(settings.hooks)
  await writeFile(file, JSON.stringify(settings))
}

/** Runs `claude -p` and fails unless it answers as scripted; the ms from start to exit. */
async function print (cleanup: Cleanup, home: ClaudeHome, prompt: string, answer: string): Promise<number> {
  const started = performance.now()
  const { code, stdout, stderr } = await claudePrint(cleanup, home, prompt).exited
  if (code !== 0 || stdout.trim() !== answer) throw new Error(`claude -p ${prompt}: exit ${code}, ${JSON.stringify(stdout)} ${stderr}`)
  return performance.now() - started
}

interface State { active: boolean, seq: number, status: string, activity: Array<{ tool?: string }> }

/** Polls the service's public state until it satisfies the predicate; fails after 10 s with what it said. */
async function untilState (server: ServerProcess, predicate: (state: State) => boolean, what: string): Promise<State> {
  let state: State
  for (const deadline = performance.now() + 10_000; ; await sleep(10)) {
    state = JSON.parse((await serverRequest(server.port, 'GET', '/ws/live')).body) as State
    if (predicate(state)) return state
    if (performance.now() > deadline) throw new Error(`the service never showed ${what}: ${JSON.stringify(state)}`)
  }
}

const teardowns: Array<() => unknown> = []
const cleanup: Cleanup = { teardown: (fn: () => unknown) => { teardowns.push(fn) } }
const rows: Array<{ metric: string, value: number, unit: string }> = []
const row = (metric: string, value: number, unit: string) => {
  rows.push({ metric, value, unit })
  console.log(`| ${metric} | ${value.toFixed(1)} ${unit} |`)
}

const api = await startFakeAnthropic()
const server = await ServerProcess.start('cc-live', { ttlSeconds: 60, logLevel: 'warn' })
try {
  const load = loadavg()
  console.log(`hooks bench on ${cpus()[0]?.model} (${availableParallelism()} cores), node ${process.version}, Claude Code ${CLAUDE_CODE_VERSION}, ` +
    `load ${load.map((value) => value.toFixed(2)).join(' ')}\n\n| metric | value |\n|---|--:|`)
  const ccLive = { endpoint: `http://127.0.0.1:${server.port}`, apiKey: BENCH_KEY, intervalSeconds: 30 }
  const home = (options: { hooks?: boolean, share?: string, project?: string } = {}) =>
    claudeHome(cleanup, { apiUrl: api.url, hooks: options.hooks ?? true, ccLive: { ...ccLive, ...options } })

  const toolHomes = {
    'no hooks': await home({ hooks: false }),
    'hooks that do nothing': await home({ hooks: false }),
    'cc-live, sharing nothing': await home(),
    'cc-live, sharing model, project, tool': await home({ share: 'model,project,tool', project: 'blog' })
  }
  const nothing = [{ hooks: [{ type: 'command', command: 'true' }] }]
  await editHooks(toolHomes['hooks that do nothing'], (hooks) => Object.assign(hooks, { PreToolUse: nothing, PostToolUse: nothing }))
  const toolCallMs = Object.fromEntries(Object.keys(toolHomes).map((name) => [name, [] as number[]]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, claude] of Object.entries(toolHomes)) {
      const file = join(claude.projectDir, 'notes.txt')
      await writeFile(file, 'a note\n')
      const reads = Array.from({ length: calls }, () => toolUse('Read', { file_path: file }))
      const reply = held('read them all')
      api.script(`read the notes ${round}`, reads[0]!, ...reads.slice(1), reply)
      const before = api.toolCallMs.length
      const run = print(cleanup, claude, `read the notes ${round}`, 'read them all')
      await reply.arrived
      // A bench whose hooks did nothing would measure nothing: the service must show the session
      // working (reading, where the tool is shared) before the turn ends, and offline after the exit.
      if (name.startsWith('cc-live')) {
        const shared = name.includes('tool')
        await untilState(server, (state) => state.status === 'working' && (!shared || state.activity[0]?.tool === 'reading'), `${name} working`)
      }
      reply.release()
      await run
      await untilState(server, (state) => !state.active, 'the session offline')
      toolCallMs[name]!.push(...api.toolCallMs.slice(before))
    }
  }
  const none = median(toolCallMs['no hooks']!)
  row(`a Read tool call without hooks, median of ${rounds * calls}`, none, 'ms')
  for (const name of Object.keys(toolHomes).slice(1)) row(`added by ${name}`, median(toolCallMs[name]!) - none, 'ms')

  const startHomes = { 'no hooks': await home({ hooks: false }), 'SessionStart only': await home(), 'SessionStart and SessionEnd': await home() }
  await editHooks(startHomes['SessionStart only'], (hooks) => { delete hooks.SessionEnd })
  const startMs = Object.fromEntries(Object.keys(startHomes).map((name) => [name, [] as number[]]))
  for (let round = 0; round < starts; round++) {
    for (const [name, claude] of Object.entries(startHomes)) startMs[name]!.push(await print(cleanup, claude, 'hello', 'ok'))
  }
  const bare = median(startMs['no hooks']!)
  row(`claude -p hello without hooks, start to exit, median of ${starts}`, bare, 'ms')
  for (const name of Object.keys(startHomes).slice(1)) row(`added by ${name}`, median(startMs[name]!) - bare, 'ms')
  if (api.unexpected.length > 0) console.log(`calls the fake API did not know: ${api.unexpected.join(', ')}`)

  const result = { date: new Date().toISOString(), node: process.version, claudeCode: CLAUDE_CODE_VERSION, cpu: cpus()[0]?.model, load, rows }
  await writeFile(join(args.out, `${args.name}.json`), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(args.out, `${args.name}.md`), `| metric | value |\n|---|--:|\n${rows.map(({ metric, value, unit }) => `| ${metric} | ${value.toFixed(1)} ${unit} |`).join('\n')}\n`)
} finally {
  for (const teardown of teardowns.reverse()) await teardown()
  await server.stop()
  await api.close()
}
