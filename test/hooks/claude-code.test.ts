import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import type { PublicState } from '../../src/public-state.js'
import { TEST_ENV, TEST_KEY } from '../helpers/app.js'
import { claudeCodeMissing, CLAUDE_CODE_VERSION } from '../helpers/claude-code/binary.js'
import { held, startFakeAnthropic, text, toolUse, type FakeAnthropic } from '../helpers/claude-code/fake-anthropic.js'
import { claudeHome, type ClaudeHome } from '../helpers/claude-code/home.js'
import { claudePrint } from '../helpers/claude-code/print-mode.js'
import { claudeInteractive, PERMISSION_PROMPT } from '../helpers/claude-code/tmux.js'
import { connectViewer, type ViewerClient } from '../helpers/viewer.js'
import { within } from '../helpers/within.js'

/**
 * The real Claude Code CLI, offline against a fake Messages API, running cc-live's hooks as
 * install.sh installs them; cc-live runs in this process. What is asserted is what a viewer of
 * /ws/live sees.
 */

const INTERVAL_SECONDS = 0.5
const TTL_SECONDS = 3
/** How long a CLI may take to start, run its hooks or exit on a busy two-core machine. */
const BOUND_MS = 15_000

interface ApiRequest {
  action: string
  sessionId: string | undefined
}

/** cc-live listening on 127.0.0.1, with a WebSocket viewer and a record of the hooks' requests. */
async function ccLive (t: Test) {
  const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_TTL_SECONDS: String(TTL_SECONDS) } })
  const requests: ApiRequest[] = []
  const arrivals = new EventEmitter()
  app.addHook('onResponse', async (request) => {
    if (!request.url.startsWith('/api/live/')) return
    const apiRequest = { action: request.url.slice('/api/live/'.length), sessionId: (request.body as { session_id?: string } | undefined)?.session_id }
    requests.push(apiRequest)
    arrivals.emit('request', apiRequest)
  })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const viewer = await connectViewer(app)
  return {
    endpoint: `http://127.0.0.1:${port}`,
    viewer,
    requests,
    /** Resolves with the `count`-th request, counted from now, that satisfies the predicate. */
    nextRequests (predicate: (request: ApiRequest) => boolean, count = 1): Promise<ApiRequest> {
      let listener = (_request: ApiRequest): void => {}
      return new Promise<ApiRequest>((resolve) => {
        let seen = 0
        listener = (request) => { if (predicate(request) && ++seen === count) resolve(request) }
        arrivals.on('request', listener)
      }).finally(() => arrivals.off('request', listener))
    }
  }
}

/** The first state the viewer got, from message `from` (0-based) on, that satisfies the predicate, and its index. */
async function firstState (viewer: ViewerClient, predicate: (state: PublicState) => boolean, what: string, from = 0): Promise<{ state: PublicState, index: number }> {
  const search = async (): Promise<{ state: PublicState, index: number }> => {
    for (let count = from + 1; ; count++) {
      const state = await viewer.nth(count)
      if (predicate(state)) return { state, index: count - 1 }
    }
  }
  return within(search(), BOUND_MS, `a viewer to see ${what}`)
}

const live = (state: PublicState): boolean => state.active
const offline = (state: PublicState): boolean => !state.active
const isHeartbeat = (request: ApiRequest): boolean => request.action === 'heartbeat'
const isStopOf = (sessionId: string | undefined) => (request: ApiRequest): boolean => request.action === 'stop' && request.sessionId === sessionId
const isHeartbeatOf = (sessionId: string | undefined) => (request: ApiRequest): boolean => isHeartbeat(request) && request.sessionId === sessionId

async function setUp (t: Test, api: FakeAnthropic) {
  const service = await ccLive(t)
  const home = await claudeHome(t, { apiUrl: api.url, ccLive: { endpoint: service.endpoint, apiKey: TEST_KEY, intervalSeconds: INTERVAL_SECONDS } })
  return { service, home }
}

/** An interactive session, ready for input, and the session id its first heartbeat carried. */
async function startInteractive (t: Test, home: ClaudeHome, service: Awaited<ReturnType<typeof ccLive>>) {
  const heartbeat = service.nextRequests(isHeartbeat)
  const claude = await claudeInteractive(t, home)
  await claude.waitFor('? for shortcuts', BOUND_MS)
  const { sessionId } = await within(heartbeat, BOUND_MS, 'the first heartbeat')
  return { claude, sessionId }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

if (claudeCodeMissing) {
  t.plan(0, claudeCodeMissing)
} else {
  // Each CLI start costs about a second, more on a busy machine: past tap's default 30 s per file.
  t.setTimeout(240_000)
  t.comment(`Claude Code ${CLAUDE_CODE_VERSION}`)
  const api = await startFakeAnthropic()
  t.teardown(() => api.close())

  t.test('an interactive session is live soon after it starts, through a permission prompt, and offline after /exit', async (t) => {
    const { service, home } = await setUp(t, api)
    const started = Date.now()
    const { claude, sessionId } = await startInteractive(t, home, service)
    const { index } = await firstState(service.viewer, live, 'the session live')
    t.comment(`live ${Date.now() - started} ms after the CLI was started`)
    t.match(service.viewer.messages[index], { active: true, sessions: 1 })

    api.script('run a command', toolUse('Bash', { command: 'touch approved', description: 'Create a file' }), text('the command ran'))
    await claude.line('run a command')
    await claude.waitFor(PERMISSION_PROMPT, BOUND_MS)
    await claude.approve(BOUND_MS)
    await claude.waitFor('the command ran', BOUND_MS)
    t.ok(existsSync(join(home.projectDir, 'approved')), 'the approved command ran')
    t.same(service.viewer.messages.slice(index + 1), [], 'the session stayed live throughout')

    const stop = service.nextRequests(isStopOf(sessionId))
    await claude.line('/exit')
    await claude.waitForExit(BOUND_MS)
    await firstState(service.viewer, offline, 'the session offline', index)
    await within(stop, BOUND_MS, 'the stop')
    t.pass('SessionEnd sent the stop')
  })

  t.test('claude -p is live while its turn runs and offline once it has exited', async (t) => {
    const { service, home } = await setUp(t, api)
    const reply = held('a held reply')
    api.script('print mode, held', reply)
    const heartbeat = service.nextRequests(isHeartbeat)
    const run = claudePrint(t, home, 'print mode, held')
    await within(reply.arrived, BOUND_MS, 'the turn to reach the API')
    const { index } = await firstState(service.viewer, live, 'the session live during the turn')
    t.match(service.viewer.messages[index], { active: true, sessions: 1 })
    const { sessionId } = await heartbeat
    const stop = service.nextRequests(isStopOf(sessionId))
    t.match(service.viewer.messages.at(-1), { active: true }, 'still live with the reply held')

    reply.release()
    const { code, stdout } = await within(run.exited, BOUND_MS, 'claude -p to exit')
    t.equal(code, 0, 'claude -p exits 0')
    t.equal(stdout.trim(), 'a held reply', 'and prints the reply')
    await within(stop, BOUND_MS, 'the stop')
    await firstState(service.viewer, offline, 'the session offline', index)
  })

  t.test('a CLI killed with SIGKILL: its loop notices the owner gone and ends the session', async (t) => {
    const { service, home } = await setUp(t, api)
    const { claude, sessionId } = await startInteractive(t, home, service)
    const { index } = await firstState(service.viewer, live, 'the session live')
    const stop = service.nextRequests(isStopOf(sessionId))
    process.kill(claude.pid, 'SIGKILL')
    await claude.waitForExit(BOUND_MS)
    await within(stop, BOUND_MS, "the loop's stop")
    await firstState(service.viewer, offline, 'the session offline', index)
    t.pass('the loop sent the stop, no SessionEnd having run')
  })

  t.test('/clear inside a running session never shows viewers offline (issue 10 item 12)', async (t) => {
    const { service, home } = await setUp(t, api)
    const { claude, sessionId: first } = await startInteractive(t, home, service)
    const { index, state: before } = await firstState(service.viewer, live, 'the session live')

    const next = service.nextRequests((request) => isHeartbeat(request) && request.sessionId !== first)
    await claude.line('/clear')
    const { sessionId: second } = await within(next, BOUND_MS, "the new session's heartbeat")
    t.not(second, first, '/clear starts a new session id in the same process')
    // The old session leaves, by a stop or by expiry: either way the viewer is back to one session.
    const { index: settled } = await firstState(service.viewer, (state) => state.sessions <= 1, 'one session after the hand-over', index + 1)
    const seen = service.viewer.messages.slice(index, settled + 1)
    t.same(seen.filter(offline), [], 'no offline while the same CLI runs')
    t.same(seen.map(({ since }) => since), seen.map(() => before.since), '`since` is the start of the process, not of the new session')

    await claude.line('/exit')
    await firstState(service.viewer, offline, 'the session offline after /exit', settled)
  })

  t.test('claude -p --continue beside a running session leaves that session live (issue 10 item 13)', async (t) => {
    const { service, home } = await setUp(t, api)
    const { claude, sessionId } = await startInteractive(t, home, service)
    // --continue picks the project's latest conversation, which needs a turn to exist.
    api.script('a first turn', text('first turn done'))
    await claude.line('a first turn')
    await claude.waitFor('first turn done', BOUND_MS)
    const { index } = await firstState(service.viewer, live, 'the session live')

    const run = claudePrint(t, home, 'a second process', ['--continue', '--output-format', 'json'])
    const { code, stdout } = await within(run.exited, BOUND_MS, 'claude -p --continue to exit')
    t.equal(code, 0, 'claude -p --continue exits 0')
    const continued = (JSON.parse(stdout) as { session_id: string }).session_id
    t.ok(sessionId?.includes(continued), `it continued the running session ${continued}`)

    // The second process's own stop goes out detached as it exits; heartbeats that follow it show a loop left.
    const outcome = await within(Promise.race([
      service.nextRequests(isHeartbeatOf(sessionId), 2).then(() => 'heartbeats go on'),
      firstState(service.viewer, offline, 'offline', index).then(() => 'offline')
    ]), BOUND_MS, 'heartbeats or offline')
    t.equal(outcome, 'heartbeats go on', 'the running session keeps sending heartbeats')
    t.same(service.viewer.messages.slice(index).filter(offline), [], 'and viewers never saw it offline')

    await claude.line('/exit')
    await firstState(service.viewer, offline, 'the session offline after /exit', index)
  })

  t.test('the time the hooks add to claude -p (a comment, not a target)', async (t) => {
    const service = await ccLive(t)
    const ccLiveSettings = { endpoint: service.endpoint, apiKey: TEST_KEY, intervalSeconds: INTERVAL_SECONDS }
    const homes = {
      'no hooks': await claudeHome(t, { apiUrl: api.url, ccLive: ccLiveSettings, hooks: false }),
      'SessionStart only': await claudeHome(t, { apiUrl: api.url, ccLive: ccLiveSettings }),
      'both hooks': await claudeHome(t, { apiUrl: api.url, ccLive: ccLiveSettings })
    }
    const startOnly = join(homes['SessionStart only'].home, '.claude', 'settings.json')
    const settings = JSON.parse(await readFile(startOnly, 'utf8')) as { hooks: Record<string, unknown> }
    delete settings.hooks.SessionEnd
    await writeFile(startOnly, JSON.stringify(settings))

    const RUNS = 5
    const times: Record<keyof typeof homes, number[]> = { 'no hooks': [], 'SessionStart only': [], 'both hooks': [] }
    // In turns, so the machine's drifting load hits each variant alike.
    for (let round = 0; round < RUNS; round++) {
      for (const [name, home] of Object.entries(homes) as Array<[keyof typeof homes, ClaudeHome]>) {
        const started = process.hrtime.bigint()
        const { code, stdout } = await within(claudePrint(t, home, 'hello').exited, BOUND_MS, `claude -p (${name})`)
        times[name].push(Number(process.hrtime.bigint() - started) / 1e6)
        t.same({ code, stdout: stdout.trim() }, { code: 0, stdout: 'ok' }, `claude -p hello (${name}) answers`)
      }
    }
    const none = median(times['no hooks'])
    const startAdds = median(times['SessionStart only']) - none
    const bothAdd = median(times['both hooks']) - none
    // Other work on the machine swamps differences this small: the load average says how much to trust them.
    t.comment(`claude -p hello, median of ${RUNS}: ${none.toFixed(0)} ms without hooks; ` +
      `SessionStart adds ${startAdds.toFixed(0)} ms, SessionStart + SessionEnd add ${bothAdd.toFixed(0)} ms ` +
      `(load average ${loadavg()[0]?.toFixed(1)})`)
  })

  t.test('the CLI called nothing the fake API does not know', async (t) => {
    t.same(api.unexpected, [])
  })
}
