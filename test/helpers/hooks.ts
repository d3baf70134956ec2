import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once, EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import type { PublicState } from '../../src/live/public-state.ts'
import { TEST_ENV, TEST_KEY } from './app.ts'
import { within } from './within.ts'

/**
 * The laptop side as the hook tests drive it: the real scripts of scripts/cc-live/, run by a
 * stand-in for Claude Code, against a real cc-live listening on 127.0.0.1.
 */

export const SCRIPTS = fileURLToPath(new URL('../../scripts/cc-live/', import.meta.url))
export const INTERVAL_SECONDS = 0.2
export const TTL_SECONDS = 1

/**
 * Claude Code, as far as hooks can tell: a long-lived process that runs each hook command through
 * `sh -c` with the hook's JSON on stdin, and counts a hook as done when its stdout and stderr
 * close. It runs one hook per line on its stdin, at once, in the environment and directory the line
 * gives, so hooks sent together run in parallel as Claude Code runs them, and answers each with a
 * JSON line naming it. A line may hold the hook's input back for a while, so that a hook started
 * earlier finishes later. Like Claude Code 2.1, it names itself to the hook (CLAUDE_PID) when the
 * line asks for that.
 */
const CLAUDE_CODE = `
const { spawn } = require('node:child_process')
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, command, input, env, cwd, namesItself, inputDelayMs } = JSON.parse(line)
  const started = process.hrtime.bigint()
  const hook = spawn('sh', ['-c', command], {
    env: namesItself ? { ...env, CLAUDE_PID: String(process.pid) } : env,
    cwd,
    stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe']
  })
  let stdout = 0
  let stderr = ''
  hook.stdout.on('data', (chunk) => { stdout += chunk.length })
  hook.stderr.on('data', (chunk) => { stderr += chunk })
  if (input !== null) {
    // A hook may exit without reading its input (no configuration), or all of it: that EPIPE is no failure.
    hook.stdin.on('error', () => {})
    if (inputDelayMs > 0) setTimeout(() => hook.stdin.end(input), inputDelayMs)
    else hook.stdin.end(input)
  }
  hook.on('close', (code) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    process.stdout.write(JSON.stringify({ id, code, ms, stdout, stderr }) + '\\n')
  })
})
`

export type HookScript = 'start.sh' | 'stop.sh' | 'event.sh'

export interface HookRun {
  code: number
  ms: number
  /** Bytes the hook wrote to stdout. */
  stdout: number
  stderr: string
}

/** The environment without the variables given as undefined. */
export function environment (variables: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

type SettingsHooks = Record<string, Array<{ matcher?: string, hooks: Array<{ command: string }> }>>
let installed: SettingsHooks | undefined
/** The hooks install.sh puts in Claude Code's settings. */
function installedHooks (): SettingsHooks {
  if (installed === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'cc-live-settings-'))
    try {
      execFileSync('sh', [join(SCRIPTS, 'install.sh'), join(dir, 'settings.json')], { stdio: 'ignore' })
      installed = (JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')) as { hooks: SettingsHooks }).hooks
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return installed
}

/** Whether a hook's matcher picks the tool, as Claude Code 2.1 matches: a list of names exactly, anything else as a regular expression. */
function matches (matcher: string | undefined, tool: unknown): boolean {
  if (matcher === undefined || matcher === '' || matcher === '*') return true
  if (typeof tool !== 'string') return false
  return /^[\w|]+$/.test(matcher) ? matcher.split('|').includes(tool) : new RegExp(matcher).test(tool)
}

const EVENT_OF_SCRIPT: Record<HookScript, string | undefined> = { 'start.sh': 'SessionStart', 'stop.sh': 'SessionEnd', 'event.sh': undefined }

interface HookCommand { command: string, env: Record<string, string>, cwd?: string, namesItself: boolean }

/**
 * How Claude Code 2.1 runs a hook: in the session's directory, with the session's id in the
 * environment; as install.sh installed it, the one command whose event and matcher fit the input,
 * or else the script by its path, as a hook the owner added by hand.
 */
function hookCommand (script: HookScript, input: string | null, env: Record<string, string>, byPath: boolean): HookCommand {
  let fields: Record<string, unknown> = {}
  try {
    fields = input === null ? {} : JSON.parse(input) as Record<string, unknown>
  } catch {}
  let command = join(SCRIPTS, script)
  if (!byPath) {
    const event = EVENT_OF_SCRIPT[script] ?? String(fields.hook_event_name)
    const commands = (installedHooks()[event] ?? []).filter(({ matcher }) => matches(matcher, fields.tool_name))
      .flatMap(({ hooks }) => hooks.map(({ command }) => command))
    if (commands.length !== 1 || !commands[0]!.includes(script)) {
      throw new Error(`install.sh gives ${event} (tool ${String(fields.tool_name)}) ${commands.length} hooks, not one running ${script}`)
    }
    command = commands[0]!
  }
  const cwd = typeof fields.cwd === 'string' ? fields.cwd : undefined
  const sessionId = typeof fields.session_id === 'string' ? fields.session_id : undefined
  return { command, env: environment({ ...env, CLAUDE_CODE_SESSION_ID: sessionId }), ...(cwd === undefined ? {} : { cwd }), namesItself: true }
}

export interface ClaudeCodeOptions {
  /**
   * A Claude Code older than 2.1 with the hooks of an older install.sh: each script run by its path,
   * told nothing but the JSON on stdin (no session id or pid in the environment, not run in the
   * session's directory). By default, Claude Code 2.1 with the hooks install.sh installs now.
   */
  older?: boolean
}

export class ClaudeCode {
  readonly child: ChildProcess
  readonly #older: boolean
  readonly #pending = new Map<number, { resolve: (run: HookRun) => void, reject: (error: Error) => void }>()
  #nextId = 0

  constructor ({ older = false }: ClaudeCodeOptions = {}) {
    this.#older = older
    // Without tap's loaders, which would slow the start-up.
    const env = environment({ ...process.env, NODE_OPTIONS: undefined })
    this.child = spawn(process.execPath, ['-e', CLAUDE_CODE], { env, stdio: ['pipe', 'pipe', 'inherit'] })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const { id, ...run } = JSON.parse(line) as HookRun & { id: number }
      this.#pending.get(id)?.resolve(run)
      this.#pending.delete(id)
    })
    this.child.once('exit', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('the Claude Code stand-in exited'))
      this.#pending.clear()
    })
  }

  get pid (): number {
    return this.child.pid!
  }

  /**
   * Runs a hook, as installed or (`byPath`) by the script's path; with `inputDelayMs`, its stdin gets
   * the input only that long after it started.
   */
  run (script: HookScript, input: string | null, env: Record<string, string>, { inputDelayMs = 0, byPath = false } = {}): Promise<HookRun> {
    const hook: HookCommand = this.#older ? { command: join(SCRIPTS, script), env, namesItself: false } : hookCommand(script, input, env, byPath)
    const id = ++this.#nextId
    const done = new Promise<HookRun>((resolve, reject) => { this.#pending.set(id, { resolve, reject }) })
    this.child.stdin!.write(JSON.stringify({ id, ...hook, input, inputDelayMs }) + '\n')
    return done
  }

  async kill (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.kill('SIGKILL')
    await exited
  }
}

let shared: ClaudeCode | undefined
/** The Claude Code that tests share unless they need one of their own: each costs a Node.js start-up. */
function sharedClaudeCode (): ClaudeCode {
  if (shared === undefined) {
    const claudeCode = new ClaudeCode()
    t.teardown(() => claudeCode.kill())
    shared = claudeCode
  }
  return shared
}

/** A Claude Code of the test's own, killed when the test ends. */
export function ownClaudeCode (t: Test, options: ClaudeCodeOptions = {}): ClaudeCode {
  const claudeCode = new ClaudeCode(options)
  t.teardown(() => claudeCode.kill())
  return claudeCode
}

/** The directory of the owner's projects (Claude Code runs hooks in the session's directory, so it is a real one), and one project. */
export const DEV_DIR = mkdtempSync(join(tmpdir(), 'cc-live-dev-'))
t.teardown(() => rm(DEV_DIR, { recursive: true, force: true }))
export const PROJECT_DIR = join(DEV_DIR, 'blog')
mkdirSync(PROJECT_DIR)

/** The JSON Claude Code gives a hook on stdin: the fields every event has, in its order, then the event's own. */
export const hookInput = (event: string, sessionId: string, detail: Record<string, unknown> = {}, cwd = PROJECT_DIR): string =>
  JSON.stringify({
    session_id: sessionId,
    transcript_path: `/home/dev/.claude/projects/-home-dev-blog/${sessionId}.jsonl`,
    cwd,
    hook_event_name: event,
    ...detail
  })
/** SessionStart: `source` is startup, resume, clear or compact; only an interactive start or a compaction names the model. */
export const sessionStart = (sessionId: string, source = 'startup', model: string | null = 'claude-opus-4-8[1m]', cwd = PROJECT_DIR): string =>
  hookInput('SessionStart', sessionId, model === null ? { source } : { source, model }, cwd)
/** SessionEnd: `reason` is prompt_input_exit (interactive), other (`-p`), clear, resume or logout. */
export const sessionEnd = (sessionId: string, reason = 'prompt_input_exit'): string => hookInput('SessionEnd', sessionId, { reason })
/** What `claude -p --continue` (or `--resume ID`) sends at its start: the session it continues, and no model. */
export const continueStart = (sessionId: string): string => sessionStart(sessionId, 'resume', null)

export const SESSION_A = '0f3b2c1e-7a4d-4e8b-9c2f-1d6e5a4b3c2a'
export const SESSION_B = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
export const SESSION_C = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a'

/** Every process's command line, as `ps` would show it. */
export function commandLines (): Array<{ pid: number, args: string }> {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((pid) => ({
    pid: Number(pid),
    args: readProc(pid, 'cmdline').replaceAll('\0', ' ').trim()
  }))
}

export function readProc (pid: number | string, file: string): string {
  return readText(`/proc/${pid}/${file}`)
}

/** A file's text, or '' when there is no such file (yet, or any more). */
export function readText (path: string): string {
  try {
    return readFileSync(path, 'latin1')
  } catch {
    return ''
  }
}

function parentOf (pid: number): number {
  return Number(readProc(pid, 'stat').replace(/^.*\) \S+ /, '').split(' ')[0])
}

/** A process that exists and has not exited (a zombie has). */
export function running (pid: number): boolean {
  const stat = readProc(pid, 'stat')
  return stat !== '' && !/^\S+ \(.*\) Z/.test(stat)
}

/**
 * Waits for a condition that no event announces, such as a process that is not our child
 * exiting, by looking again every 20 ms.
 */
export async function eventually (condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await delay(20)
  }
}

export interface ApiRequest {
  action: string
  sessionId: string | undefined
  statusCode: number
  /** The request body as sent, byte for byte. */
  body: string
}

/**
 * A real cc-live listening on 127.0.0.1. When an API request arrives, while the curl that sent it
 * is still waiting for the answer, it looks at every process's command line for the key.
 */
export async function startServer (t: Test, ttlSeconds = TTL_SECONDS, env: Record<string, string> = {}) {
  const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_TTL_SECONDS: String(ttlSeconds), ...env } })
  const requests = new EventEmitter()
  const argv = { keySeen: false, curlSeen: false }
  const bodies = new WeakMap<object, string>()
  app.addHook('onRequest', async (request) => {
    for (const { args } of commandLines()) {
      if (args.includes(TEST_KEY)) argv.keySeen = true
      if (args.startsWith('curl ') && args.includes(request.url)) argv.curlSeen = true
    }
  })
  app.addHook('preParsing', async (request, _reply, payload) => {
    const chunks: Buffer[] = []
    for await (const chunk of payload) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks)
    bodies.set(request, raw.toString('latin1'))
    return Readable.from([raw])
  })
  app.addHook('onResponse', async (request, reply) => {
    if (!request.url.startsWith('/api/live/')) return
    const body = request.body as { session_id?: string } | undefined
    requests.emit('request', {
      action: request.url.slice('/api/live/'.length),
      sessionId: body?.session_id,
      statusCode: reply.statusCode,
      body: bodies.get(request) ?? ''
    })
  })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }

  const state = (): PublicState => app.liveState.snapshot.state
  return {
    endpoint: `http://127.0.0.1:${port}`,
    argv,
    state,
    /** Resolves with the state once it satisfies the predicate: at once, or at a later change. */
    whenState (predicate: (state: PublicState) => boolean, timeoutMs = 3000): Promise<PublicState> {
      let stop = (): void => {}
      return within(new Promise<PublicState>((resolve) => {
        const check = (): void => {
          if (!predicate(state())) return
          stop()
          resolve(state())
        }
        stop = app.liveState.onChange(check)
        check()
      }), timeoutMs, 'a live state').finally(() => stop())
    },
    /** Every public state from now until the test ends, in order. */
    watch (t: Test): PublicState[] {
      const states: PublicState[] = []
      t.teardown(app.liveState.onChange((snapshot) => { states.push(snapshot.state) }))
      return states
    },
    /** Every API request from now until the test ends, in order. */
    record (t: Test): ApiRequest[] {
      const recorded: ApiRequest[] = []
      const listener = (request: ApiRequest): void => { recorded.push(request) }
      requests.on('request', listener)
      t.teardown(() => { requests.off('request', listener) })
      return recorded
    },
    /** Resolves with the next API request that satisfies the predicate. */
    nextRequest (predicate: (request: ApiRequest) => boolean, timeoutMs = 3000): Promise<ApiRequest> {
      let listener = (_request: ApiRequest): void => {}
      return within(new Promise<ApiRequest>((resolve) => {
        listener = (request) => { if (predicate(request)) resolve(request) }
        requests.on('request', listener)
      }), timeoutMs, 'an API request').finally(() => requests.off('request', listener))
    },
    requests
  }
}

export type Server = Awaited<ReturnType<typeof startServer>>

/** A laptop user: own HOME and state directory, the hooks' settings, and their Claude Code sessions. */
export async function laptop (t: Test, settings: Record<string, string | undefined>) {
  const home = await mkdtemp(join(tmpdir(), 'cc-live-hooks-'))
  const stateHome = join(home, 'state')
  const env = environment({
    ...process.env,
    HOME: home,
    XDG_STATE_HOME: stateHome,
    XDG_CONFIG_HOME: join(home, 'config'),
    CC_LIVE_API_KEY: TEST_KEY,
    CC_LIVE_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    ...settings
  })
  // Processes this user's hooks left behind: they carry its state directory in their environment.
  const leftovers = (): number[] => readdirSync('/proc').filter((name) => /^\d+$/.test(name))
    .filter((pid) => readProc(pid, 'environ').split('\0').includes(`XDG_STATE_HOME=${stateHome}`))
    .map(Number)
  // A process in the middle of an exec shows no environment for a moment: kill until two looks
  // in a row find nothing.
  t.teardown(async () => {
    for (let quiet = 0; quiet < 2;) {
      const found = leftovers()
      for (const pid of found) {
        try { process.kill(pid, 'SIGKILL') } catch {}
      }
      quiet = found.length === 0 ? quiet + 1 : 0
      await delay(20)
    }
    await rm(home, { recursive: true, force: true })
  })
  const stateDir = join(stateHome, 'cc-live')
  return {
    env,
    home,
    stateDir,
    /** Where the owner maps project directories to public names. */
    projectsFile: join(home, 'config', 'cc-live', 'projects'),
    /** This user's hooks, as run by a Claude Code: the shared one unless the test brings its own. */
    claudeCode: (claudeCode = sharedClaudeCode()) => {
      const run = (script: HookScript, input: string | null, inputDelayMs = 0): Promise<HookRun> => claudeCode.run(script, input, env, { inputDelayMs })
      return {
        pid: claudeCode.pid,
        run,
        /** Runs a script by its path, as a hook the owner added by hand for an event install.sh does not hook. */
        runByPath: (script: HookScript, input: string | null): Promise<HookRun> => claudeCode.run(script, input, env, { byPath: true }),
        /**
         * `/clear`, or `/resume` of another session, inside this running Claude Code: SessionEnd
         * for the old id with that reason, then SessionStart for the new id with it as source (and,
         * as Claude Code does, no model).
         */
        switchSession: async (from: string, to: string, how: 'clear' | 'resume'): Promise<HookRun[]> =>
          [await run('stop.sh', sessionEnd(from, how)), await run('start.sh', sessionStart(to, how, null))],
        /** The id the server knows this Claude Code's session by: one per session per process. */
        presence: (sessionId: string) => `${sessionId}:${claudeCode.pid}`,
        kill: () => claudeCode.kill()
      }
    },
    /**
     * Heartbeat loops, not counting the subshells a loop forks for a moment (nor one that has
     * exited since its command line was read, whose parent can no longer be told).
     */
    loops: () => {
      const mine = new Set(leftovers())
      const loops = commandLines().filter(({ pid, args }) => mine.has(pid) && args.includes('/heartbeat-loop.sh '))
      const pids = new Set(loops.map(({ pid }) => pid))
      return loops.filter(({ pid }) => {
        const parent = parentOf(pid)
        return parent !== 0 && !pids.has(parent)
      })
    },
    /** The loops of a Claude Code session, whichever process runs it. */
    loopsOf (sessionId: string): number[] {
      return this.loops().filter(({ args }) => args.includes(`/heartbeat-loop.sh ${sessionId}`)).map(({ pid }) => pid)
    },
    /** The loop a presence's pid file names (0 when there is none). */
    pidFile: (presence: string): number => Number(readText(join(stateDir, `${presence}.pid`)).split(' ')[0]),
    log: () => readText(join(stateDir, 'cc-live.log')),
    /** The state directory's names, sorted, each presence's status records as one `PRESENCE.status`. */
    stateFiles: (): string[] => [...new Set(readdirSync(stateDir).map((name) => name.replace(/\.status\.\d+\.\d+$/, '.status')))].sort(),
    leftovers
  }
}

export type Laptop = Awaited<ReturnType<typeof laptop>>

export function assertQuiet (t: Test, run: HookRun, what: string): void {
  t.equal(run.code, 0, `${what} exits 0`)
  t.equal(run.stdout, 0, `${what} prints nothing to stdout`)
  t.equal(run.stderr, '', `${what} prints nothing to stderr`)
}

export const isHeartbeatOf = (sessionId: string | undefined) => (request: ApiRequest): boolean =>
  request.action === 'heartbeat' && request.sessionId === sessionId
