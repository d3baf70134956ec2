import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once, EventEmitter } from 'node:events'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import type { PublicState } from '../../src/public-state.js'
import { TEST_ENV, TEST_KEY } from '../helpers/app.js'
import { freePort } from '../helpers/ports.js'
import { IS_OFFLINE } from '../helpers/states.js'

const SCRIPTS = fileURLToPath(new URL('../../scripts/cc-live/', import.meta.url))
const INTERVAL_SECONDS = 0.2
const TTL_SECONDS = 1
const HOOK_BUDGET_MS = 200

/**
 * Claude Code, as far as hooks can tell: a long-lived process that runs each hook command through
 * `sh -c` with the hook's JSON on stdin, and counts a hook as done when its stdout and stderr
 * close. It runs one hook per line on its stdin, in the environment the line gives (the user's),
 * and answers with one JSON line per hook.
 */
const CLAUDE_CODE = `
const { spawn } = require('node:child_process')
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { command, input, env } = JSON.parse(line)
  const started = process.hrtime.bigint()
  const hook = spawn('sh', ['-c', command], { env, stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  let stdout = 0
  let stderr = ''
  hook.stdout.on('data', (chunk) => { stdout += chunk.length })
  hook.stderr.on('data', (chunk) => { stderr += chunk })
  if (input !== null) {
    // A hook may exit without reading its input (no configuration): that EPIPE is no failure.
    hook.stdin.on('error', () => {})
    hook.stdin.end(input)
  }
  hook.on('close', (code) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    process.stdout.write(JSON.stringify({ code, ms, stdout, stderr }) + '\\n')
  })
})
`

interface HookRun {
  code: number
  ms: number
  /** Bytes the hook wrote to stdout. */
  stdout: number
  stderr: string
}

/** The environment without the variables given as undefined. */
function environment (variables: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

class ClaudeCode {
  readonly child: ChildProcess
  readonly #replies: AsyncIterator<string>

  constructor () {
    // Without tap's loaders, which would slow the start-up.
    const env = environment({ ...process.env, NODE_OPTIONS: undefined })
    this.child = spawn(process.execPath, ['-e', CLAUDE_CODE], { env, stdio: ['pipe', 'pipe', 'inherit'] })
    this.#replies = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]()
  }

  get pid (): number {
    return this.child.pid!
  }

  async run (script: 'start.sh' | 'stop.sh', input: string | null, env: Record<string, string>): Promise<HookRun> {
    this.child.stdin!.write(JSON.stringify({ command: join(SCRIPTS, script), input, env }) + '\n')
    const reply = await this.#replies.next()
    if (reply.done === true) throw new Error('the Claude Code stand-in exited')
    return JSON.parse(reply.value)
  }

  async kill (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.kill('SIGKILL')
    await exited
  }
}

/** The Claude Code that tests share unless they need one of their own: each costs a Node.js start-up. */
const sharedClaudeCode = new ClaudeCode()
t.teardown(() => sharedClaudeCode.kill())

/** A Claude Code of the test's own, killed when the test ends. */
function ownClaudeCode (t: Test): ClaudeCode {
  const claudeCode = new ClaudeCode()
  t.teardown(() => claudeCode.kill())
  return claudeCode
}

/** The JSON Claude Code gives a hook on stdin. */
const hookInput = (event: 'SessionStart' | 'SessionEnd', sessionId: string, detail: Record<string, string>): string =>
  JSON.stringify({
    session_id: sessionId,
    transcript_path: `/home/dev/.claude/projects/-home-dev-blog/${sessionId}.jsonl`,
    cwd: '/home/dev/blog',
    hook_event_name: event,
    ...detail
  })
const sessionStart = (sessionId: string, source = 'startup'): string => hookInput('SessionStart', sessionId, { source })
const sessionEnd = (sessionId: string, reason = 'prompt_input_exit'): string => hookInput('SessionEnd', sessionId, { reason })

const SESSION_A = '0f3b2c1e-7a4d-4e8b-9c2f-1d6e5a4b3c2a'
const SESSION_B = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'

/** Every process's command line, as `ps` would show it. */
function commandLines (): Array<{ pid: number, args: string }> {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((pid) => ({
    pid: Number(pid),
    args: readProc(pid, 'cmdline').replaceAll('\0', ' ').trim()
  }))
}

function readProc (pid: number | string, file: string): string {
  return readText(`/proc/${pid}/${file}`)
}

/** A file's text, or '' when there is no such file (yet, or any more). */
function readText (path: string): string {
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
function running (pid: number): boolean {
  const stat = readProc(pid, 'stat')
  return stat !== '' && !/^\S+ \(.*\) Z/.test(stat)
}

/**
 * Waits for a condition that no event announces, such as a process that is not our child
 * exiting, by looking again every 20 ms.
 */
async function eventually (condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await delay(20)
  }
}

function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

interface ApiRequest {
  action: string
  sessionId: string | undefined
  statusCode: number
}

/**
 * A real cc-live listening on 127.0.0.1. When an API request arrives, while the curl that sent it
 * is still waiting for the answer, it looks at every process's command line for the key.
 */
async function startServer (t: Test) {
  const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_TTL_SECONDS: String(TTL_SECONDS) } })
  const requests = new EventEmitter()
  const argv = { keySeen: false, curlSeen: false }
  app.addHook('onRequest', async (request) => {
    for (const { args } of commandLines()) {
      if (args.includes(TEST_KEY)) argv.keySeen = true
      if (args.startsWith('curl ') && args.includes(request.url)) argv.curlSeen = true
    }
  })
  app.addHook('onResponse', async (request, reply) => {
    if (!request.url.startsWith('/api/live/')) return
    const body = request.body as { session_id?: string } | undefined
    requests.emit('request', {
      action: request.url.slice('/api/live/'.length),
      sessionId: body?.session_id,
      statusCode: reply.statusCode
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

/** A laptop user: own HOME and state directory, the hooks' settings, and their Claude Code sessions. */
async function laptop (t: Test, settings: Record<string, string | undefined>) {
  const home = await mkdtemp(join(tmpdir(), 'cc-live-hooks-'))
  const stateHome = join(home, 'state')
  const env = environment({
    ...process.env,
    HOME: home,
    XDG_STATE_HOME: stateHome,
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
    /** This user's hooks, as run by a Claude Code: the shared one unless the test brings its own. */
    claudeCode: (claudeCode = sharedClaudeCode) => ({
      pid: claudeCode.pid,
      run: (script: 'start.sh' | 'stop.sh', input: string | null) => claudeCode.run(script, input, env),
      kill: () => claudeCode.kill()
    }),
    /** Heartbeat loops, not counting the subshells a loop forks for a moment. */
    loops: () => {
      const mine = new Set(leftovers())
      const loops = commandLines().filter(({ pid, args }) => mine.has(pid) && args.includes('/heartbeat-loop.sh '))
      const pids = new Set(loops.map(({ pid }) => pid))
      return loops.filter(({ pid }) => !pids.has(parentOf(pid)))
    },
    /** The loop and the Claude Code it belongs to, as the session's pid file names them. */
    pidFile: (name: string) => {
      const [pid, owner] = readText(join(stateDir, `${name}.pid`)).trim().split(' ').map(Number)
      return { pid: pid ?? 0, owner: owner ?? 0 }
    },
    log: () => readText(join(stateDir, 'cc-live.log')),
    leftovers
  }
}

function assertQuiet (t: Test, run: HookRun, what: string): void {
  t.equal(run.code, 0, `${what} exits 0`)
  t.equal(run.stdout, 0, `${what} prints nothing to stdout`)
  t.equal(run.stderr, '', `${what} prints nothing to stderr`)
}

const isHeartbeatOf = (sessionId: string | undefined) => (request: ApiRequest): boolean =>
  request.action === 'heartbeat' && request.sessionId === sessionId

t.test('two concurrent sessions stay live independently; each stop ends only its own', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const first = user.claudeCode()
  const second = user.claudeCode(ownClaudeCode(t))

  assertQuiet(t, await first.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  assertQuiet(t, await second.run('start.sh', sessionStart(SESSION_B)), 'start.sh')
  t.match(await server.whenState((state) => state.sessions === 2), { active: true, sessions: 2 })
  const loopA = user.pidFile(SESSION_A)
  const loopB = user.pidFile(SESSION_B)
  t.equal(loopA.owner, first.pid, 'the first loop belongs to the first Claude Code')
  t.equal(loopB.owner, second.pid, 'the second loop belongs to the second Claude Code')
  t.same(user.loops().map(({ pid }) => pid).sort(), [loopA.pid, loopB.pid].sort(), 'one loop per session')

  assertQuiet(t, await first.run('stop.sh', sessionEnd(SESSION_A)), 'stop.sh')
  t.notOk(running(loopA.pid), "the first session's loop is gone when stop.sh returns")
  t.match(await server.whenState((state) => state.sessions === 1), { active: true }, 'the first session has left')
  const afterStop: ApiRequest[] = []
  const record = (request: ApiRequest): void => { afterStop.push(request) }
  server.requests.on('request', record)
  await server.nextRequest(isHeartbeatOf(SESSION_B))
  await server.nextRequest(isHeartbeatOf(SESSION_B))
  server.requests.off('request', record)
  t.match(server.state(), { active: true, sessions: 1 }, 'the second session is still live')
  t.same(afterStop.filter(isHeartbeatOf(SESSION_A)), [], 'no heartbeat for the stopped session')
  t.ok(running(loopB.pid), "the second session's loop carries on")

  assertQuiet(t, await second.run('stop.sh', sessionEnd(SESSION_B)), 'stop.sh')
  await server.whenState((state) => !state.active)
  t.same(user.loops(), [], 'no loop left')
  t.same(await readdir(user.stateDir), [], 'no state left')
})

t.test('a SessionEnd right after the SessionStart still ends the loop it started', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode()
  const stop = server.nextRequest((request) => request.action === 'stop')
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A)), 'stop.sh')
  await stop
  await eventually(() => user.loops().length === 0, 'the loop has ended')
  t.match(server.state(), IS_OFFLINE, 'offline, and no heartbeat came after the stop')
  t.same(await readdir(user.stateDir), [], 'no state left')
})

t.test('a Claude Code killed with SIGKILL: its loop ends, the session leaves within interval + TTL', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode(ownClaudeCode(t))
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  await server.whenState((state) => state.active)
  const loop = user.pidFile(SESSION_A)

  const killedAt = Date.now()
  await claudeCode.kill()
  await server.whenState((state) => !state.active, (INTERVAL_SECONDS + TTL_SECONDS) * 1000 + 1000)
  const elapsed = Date.now() - killedAt
  t.ok(elapsed < (INTERVAL_SECONDS + TTL_SECONDS) * 1000, `offline ${elapsed} ms after the kill`)
  await eventually(() => !running(loop.pid), 'the loop has exited')
  t.same(user.loops(), [], 'no loop process left')
  t.same(await readdir(user.stateDir), ['cc-live.log'], 'its pid file is gone')
  t.match(user.log(), `Claude Code ${claudeCode.pid} is gone without a SessionEnd`)
})

t.test('with the server down or hanging the hooks return at once, print nothing and exit 0', async (t) => {
  const hanging = new Set<Socket>()
  const blackHole = createServer((socket) => { hanging.add(socket) }).listen(0, '127.0.0.1')
  await once(blackHole, 'listening')
  t.teardown(() => {
    for (const socket of hanging) socket.destroy()
    blackHole.close()
  })
  const users = {
    'nothing listening': await laptop(t, { CC_LIVE_ENDPOINT: `http://127.0.0.1:${await freePort()}` }),
    'a server that never answers': await laptop(t, { CC_LIVE_ENDPOINT: `http://127.0.0.1:${(blackHole.address() as { port: number }).port}` })
  }
  // Claude Code waits for these hooks. The test suite runs files in parallel on two cores, where a
  // run's time is mostly the machine's load; the fastest of several runs shows the hook's own cost,
  // and any run that waited on the server would take curl's 5 s timeout.
  const sessions = ['one', 'two', 'three', 'four', 'five']
  for (const [name, user] of Object.entries(users)) {
    const claudeCode = user.claudeCode()
    const timed = async (script: 'start.sh' | 'stop.sh', inputs: string[]): Promise<void> => {
      const times: number[] = []
      for (const input of inputs) {
        const run = await claudeCode.run(script, input)
        assertQuiet(t, run, `${script} with ${name}`)
        times.push(run.ms)
      }
      times.sort((a, b) => a - b)
      const fastest = times[0]!
      t.ok(fastest < HOOK_BUDGET_MS, `${script} with ${name}: fastest ${fastest.toFixed(1)} ms of ${times.length} runs`)
      t.ok(times.at(-1)! < 1000, `${script} with ${name}: none waited on the server (slowest ${times.at(-1)!.toFixed(1)} ms)`)
    }
    await timed('start.sh', [...sessions.map((id) => sessionStart(id)), sessionStart('one', 'resume')])
    if (name === 'nothing listening') {
      await eventually(() => user.log().includes('heartbeat failed'), 'the failure is logged')
      t.match(user.log(), /heartbeat failed: HTTP 000 \(curl: \(7\) Failed to connect/, 'the log says why')
    } else {
      await eventually(() => hanging.size === sessions.length, 'the loops are waiting on the server')
    }
    await timed('stop.sh', sessions.map((id) => sessionEnd(id)))
    t.same(user.loops(), [], `no loop left with ${name}`)
  }
})

t.test('the key is in no command line and in no state file; the state is private', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode()
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  for (let heartbeats = 0; heartbeats < 3; heartbeats++) await server.nextRequest(isHeartbeatOf(SESSION_A))
  t.ok(server.argv.curlSeen, "curl's command line was looked at while it was sending")
  t.notOk(server.argv.keySeen, 'no command line held the key')

  t.equal(statSync(user.stateDir).mode & 0o777, 0o700, 'the state directory is private')
  for (const name of await readdir(user.stateDir)) {
    const file = join(user.stateDir, name)
    t.equal(statSync(file).mode & 0o777, 0o600, `${name} is private`)
    t.notMatch(readText(file), TEST_KEY, `${name} does not hold the key`)
  }
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
  await server.whenState((state) => !state.active)
})

t.test('resume and compact keep the one loop; a new Claude Code resuming the session takes it over', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const first = user.claudeCode(ownClaudeCode(t))
  const second = user.claudeCode()
  await first.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.active)
  const loop = user.pidFile(SESSION_A)
  for (const source of ['resume', 'compact']) {
    assertQuiet(t, await first.run('start.sh', sessionStart(SESSION_A, source)), `start.sh (${source})`)
    t.same(user.loops().map(({ pid }) => pid), [loop.pid], `after ${source}: still the one loop`)
  }
  t.same(user.pidFile(SESSION_A), loop, 'the pid file is unchanged')

  await first.kill()
  await second.run('start.sh', sessionStart(SESSION_A, 'resume'))
  await eventually(() => !running(loop.pid), "the crashed Claude Code's loop has ended")
  await eventually(() => user.pidFile(SESSION_A).owner === second.pid, 'the loop belongs to the new Claude Code')
  t.same(user.loops().map(({ pid }) => pid), [user.pidFile(SESSION_A).pid], 'one loop')
  await server.nextRequest(isHeartbeatOf(SESSION_A))
  t.match(await server.whenState((state) => state.active), { sessions: 1 }, 'the session is live')
  await second.run('stop.sh', sessionEnd(SESSION_A))
  await server.whenState((state) => !state.active)
})

t.test('a session without an id, from no stdin or input that is not the JSON, is the one default session', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode()
  const requests: ApiRequest[] = []
  server.requests.on('request', (request: ApiRequest) => requests.push(request))

  const firstHeartbeat = server.nextRequest(isHeartbeatOf(undefined))
  assertQuiet(t, await claudeCode.run('start.sh', null), 'start.sh without stdin')
  t.match(await firstHeartbeat, { statusCode: 200 }, 'heartbeats without a body')
  assertQuiet(t, await claudeCode.run('start.sh', 'not JSON at all'), 'start.sh with other input')
  t.equal(user.loops().length, 1, 'the same session: one loop')
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.sessions === 2)

  assertQuiet(t, await claudeCode.run('stop.sh', '{"session_id": "not/an id"}'), 'stop.sh with an invalid id')
  await eventually(() => user.log().includes('the default session is left to expire'), 'stop is decided')
  t.same(requests.filter(({ action }) => action === 'stop'), [],
    'no stop sent: without an id it would end every session, and another one is live')
  t.same(user.loops().map(({ pid }) => pid), [user.pidFile(SESSION_A).pid], 'only the named loop is left')

  const namedStop = server.nextRequest((request) => request.action === 'stop' && request.sessionId === SESSION_A)
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
  await namedStop
  await claudeCode.run('start.sh', null)
  await server.nextRequest(isHeartbeatOf(undefined))
  const stop = server.nextRequest((request) => request.action === 'stop')
  assertQuiet(t, await claudeCode.run('stop.sh', null), 'stop.sh without stdin')
  t.match(await stop, { sessionId: undefined, statusCode: 200 }, 'alone, the default session sends stop')
  t.match(server.state(), IS_OFFLINE, 'which ends it')
})

t.test('stale pid files are swept, and a pid now used by another process is never taken for a loop', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_INTERVAL_SECONDS: '0' })
  const claudeCode = user.claudeCode()
  const bystander = spawn('sleep', ['30'], { stdio: 'ignore' })
  t.teardown(() => bystander.kill())
  const exited = spawn('true')
  await once(exited, 'exit')
  await mkdir(user.stateDir, { recursive: true, mode: 0o700 })
  await writeFile(join(user.stateDir, 'crashed.pid'), `${exited.pid} 1\n`)
  await writeFile(join(user.stateDir, `half-claimed.pid.${exited.pid}`), '')
  await writeFile(join(user.stateDir, 'rebooted.pid'), `${bystander.pid} 1\n`)

  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd('rebooted')), 'stop.sh')
  t.ok(running(bystander.pid!), 'stop.sh leaves the process that now has that pid alone')
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart('rebooted', 'resume')), 'start.sh')
  await server.nextRequest(isHeartbeatOf('rebooted'))
  t.ok(running(bystander.pid!), 'so does start.sh, resuming that session')
  await eventually(() => !readdirSync(user.stateDir).includes('crashed.pid'), 'the stale files are swept')
  t.same(readdirSync(user.stateDir).sort(), ['cc-live.log', 'rebooted.pid'], 'only the live session is left')
  t.equal(user.pidFile('rebooted').owner, claudeCode.pid)
  t.match(user.log(), 'CC_LIVE_INTERVAL_SECONDS must be a positive number of seconds; using 30')
  await claudeCode.run('stop.sh', sessionEnd('rebooted'))
  t.same(user.loops(), [], 'a loop sleeping out a long interval is stopped all the same')
})

t.test('failures are logged once, not per heartbeat, and the log stays bounded', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: 'not-the-key-0123456789' })
  await mkdir(user.stateDir, { recursive: true, mode: 0o700 })
  const oldLog = 'an old line\n'.repeat(6000)
  await writeFile(join(user.stateDir, 'cc-live.log'), oldLog)
  const claudeCode = user.claudeCode()
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  for (let refused = 0; refused < 3; refused++) {
    await server.nextRequest((request) => request.action === 'heartbeat' && request.statusCode === 401)
  }
  t.equal(readText(join(user.stateDir, 'cc-live.log.1')), oldLog, 'the full log was moved aside')
  t.match(user.log(), /^\S+ heartbeat-loop\.sh\[0f3b2c1e-[^\]]+\] heartbeat failed: HTTP 401\n$/, 'one line for three refusals')
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
})

t.test('detached without setsid(1): through perl as on macOS, or in the background with hangups ignored', async (t) => {
  const server = await startServer(t)
  const tools = ['sh', 'curl', 'date', 'wc', 'mv', 'rm', 'ln', 'mkdir', 'chmod', 'sleep', 'tr']
  for (const [name, extra] of Object.entries({ perl: ['perl'], neither: [] })) {
    const bin = await mkdtemp(join(tmpdir(), 'cc-live-bin-'))
    t.teardown(() => rm(bin, { recursive: true, force: true }))
    for (const tool of [...tools, ...extra]) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim()
      await symlink(found, join(bin, tool))
    }
    const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, PATH: bin })
    const claudeCode = user.claudeCode()
    assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), `start.sh with ${name}`)
    await server.nextRequest(isHeartbeatOf(SESSION_A))
    const loop = user.pidFile(SESSION_A).pid
    const session = Number(readProc(loop, 'stat').replace(/^.*\) /, '').split(' ')[3])
    if (name === 'perl') t.equal(session, loop, 'the loop leads its own session')
    else t.not(session, loop, 'the loop shares the session, but not the stdio')
    assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A)), `stop.sh with ${name}`)
    await server.whenState((state) => !state.active)
    await eventually(() => user.loops().length === 0, 'the loop has exited')
  }
})

t.test('without endpoint or key, or with a key that is no bearer token, the hooks do nothing at all', async (t) => {
  const server = await startServer(t)
  const requests: ApiRequest[] = []
  server.requests.on('request', (request: ApiRequest) => requests.push(request))
  const cases = {
    'no endpoint': { CC_LIVE_ENDPOINT: undefined },
    'no key': { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: undefined },
    'an empty key': { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: '' }
  }
  for (const [name, settings] of Object.entries(cases)) {
    const user = await laptop(t, settings)
    const claudeCode = user.claudeCode()
    assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), `start.sh with ${name}`)
    assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A)), `stop.sh with ${name}`)
    t.same(user.leftovers(), [], `no process started with ${name}`)
    t.same(await readdir(user.home), [], `no state written with ${name}`)
  }

  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: 'a "quoted" key' })
  const claudeCode = user.claudeCode()
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), 'start.sh with a key curl could not take')
  t.same(user.leftovers(), [], 'no loop for a key that is not a bearer token')
  t.match(user.log(), 'CC_LIVE_API_KEY has characters a bearer token cannot have', 'the log says why')
  t.same(requests, [], 'the server heard nothing')
  t.match(server.state(), IS_OFFLINE)
})
