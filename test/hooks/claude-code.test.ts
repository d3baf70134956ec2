import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import type { PublicState } from '../../src/live/public-state.ts'
import { TEST_ENV, TEST_KEY } from '../helpers/app.ts'
import { claudeCodeMissing, CLAUDE_CODE_VERSION } from '../helpers/claude-code/binary.ts'
import { held, startFakeAnthropic, text, toolUse, type FakeAnthropic } from '../helpers/claude-code/fake-anthropic.ts'
import { claudeHome, type ClaudeHome } from '../helpers/claude-code/home.ts'
import { claudePrint } from '../helpers/claude-code/print-mode.ts'
import { claudeInteractive, PERMISSION_PROMPT } from '../helpers/claude-code/tmux.ts'
import { connectViewer, type ViewerClient } from '../helpers/viewer.ts'
import { within } from '../helpers/within.ts'

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
  /** The body as the server parsed it, serialized again. */
  body: string
}

/** cc-live listening on 127.0.0.1, with a WebSocket viewer and a record of the hooks' requests. */
async function ccLive (t: Test) {
  const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_TTL_SECONDS: String(TTL_SECONDS) } })
  const requests: ApiRequest[] = []
  const arrivals = new EventEmitter()
  app.addHook('onResponse', async (request) => {
    if (!request.url.startsWith('/api/live/')) return
    const body = request.body as { session_id?: string } | undefined
    const apiRequest = { action: request.url.slice('/api/live/'.length), sessionId: body?.session_id, body: JSON.stringify(body ?? {}) }
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

/** What the owner shares in the tests that look at it, and the public name of the project directory. */
const SHARE = 'model,project,tool'
const PROJECT = 'demo'

async function setUp (t: Test, api: FakeAnthropic, share?: string) {
  const service = await ccLive(t)
  const home = await claudeHome(t, {
    apiUrl: api.url,
    ccLive: { endpoint: service.endpoint, apiKey: TEST_KEY, intervalSeconds: INTERVAL_SECONDS, ...(share === undefined ? {} : { share, project: PROJECT }) }
  })
  return { service, home }
}

/** The status of the one live session, as viewers see it. */
const sessionStatus = (status: string) => (state: PublicState): boolean => state.sessions === 1 && state.activity[0]?.status === status
/** A model's short name, as the hooks make it from the CLI's model id. */
const MODEL_NAME = /^(Opus|Sonnet|Haiku) \d+(\.\d+)?$/

/** An interactive session, ready for input, and the session id its first heartbeat carried. */
async function startInteractive (t: Test, home: ClaudeHome, service: Awaited<ReturnType<typeof ccLive>>) {
  const heartbeat = service.nextRequests(isHeartbeat)
  const claude = await claudeInteractive(t, home)
  await claude.waitFor('? for shortcuts', BOUND_MS)
  const { sessionId } = await within(heartbeat, BOUND_MS, 'the first heartbeat')
  return { claude, sessionId }
}

if (claudeCodeMissing) {
  t.plan(0, claudeCodeMissing)
} else {
  // Each CLI start costs about a second, more on a busy machine: past tap's default 30 s per file.
  t.setTimeout(240_000)
  t.comment(`Claude Code ${CLAUDE_CODE_VERSION}`)
  const api = await startFakeAnthropic()
  t.teardown(() => api.close())

  t.test('an interactive session: live and idle soon after it starts, working while a reply is held, idle after it, offline with lastSeen after /exit', async (t) => {
    const { service, home } = await setUp(t, api)
    const started = Date.now()
    const { claude, sessionId } = await startInteractive(t, home, service)
    const { index } = await firstState(service.viewer, sessionStatus('idle'), 'the session live and idle')
    t.comment(`live ${Date.now() - started} ms after the CLI was started`)
    t.match(service.viewer.messages[index], { active: true, status: 'idle', sessions: 1, lastSeen: null })

    const reply = held('the reply came')
    api.script('a slow question', reply)
    await claude.line('a slow question')
    await within(reply.arrived, BOUND_MS, 'the turn to reach the API')
    const { index: working } = await firstState(service.viewer, sessionStatus('working'), 'the session working', index)
    reply.release()
    await claude.waitFor('the reply came', BOUND_MS)
    const { index: idle } = await firstState(service.viewer, sessionStatus('idle'), 'the session idle again', working)
    t.match(service.viewer.messages[idle], { status: 'idle', activity: [{ status: 'idle' }] })
    t.same(service.viewer.messages.slice(index).filter(offline), [], 'live throughout')

    const stop = service.nextRequests(isStopOf(sessionId))
    await claude.line('/exit')
    await claude.waitForExit(BOUND_MS)
    const { state } = await firstState(service.viewer, offline, 'the session offline', idle)
    t.match(state, { active: false, status: 'offline', activity: [], lastSeen: String }, 'offline, last seen when it ended')
    t.ok(Date.parse(state.lastSeen ?? '') >= started, 'lastSeen is the moment the session ended')
    await within(stop, BOUND_MS, 'the stop')
    t.pass('SessionEnd sent the stop')
  })

  t.test('a tool that needs permission: waiting until approved, then working, then idle; only what CC_LIVE_SHARE names is sent', async (t) => {
    const { service, home } = await setUp(t, api, SHARE)
    const { claude } = await startInteractive(t, home, service)
    const { index } = await firstState(service.viewer, sessionStatus('idle'), 'the session idle')

    const reply = held('the command ran')
    api.script('run a command', toolUse('Bash', { command: 'touch approved', description: 'Create a file' }), reply)
    await claude.line('run a command')
    await claude.waitFor(PERMISSION_PROMPT, BOUND_MS)
    const { index: waiting, state } = await firstState(service.viewer, sessionStatus('waiting'), 'the session waiting for permission', index)
    t.match(state.activity[0], { status: 'waiting', model: MODEL_NAME, project: PROJECT, tool: 'running commands' }, 'waiting to run a command')
    t.notOk(existsSync(join(home.projectDir, 'approved')), 'nothing ran before the approval')

    await claude.approve(BOUND_MS)
    // The reply after the command is held: the turn goes on.
    await within(reply.arrived, BOUND_MS, 'the command result to reach the API')
    const { index: working } = await firstState(service.viewer, sessionStatus('working'), 'the session working once approved', waiting)
    t.match(service.viewer.messages[working]?.activity[0], { status: 'working', tool: 'running commands' })
    t.ok(existsSync(join(home.projectDir, 'approved')), 'the approved command ran')
    reply.release()
    await claude.waitFor('the command ran', BOUND_MS)
    const { state: idle } = await firstState(service.viewer, sessionStatus('idle'), 'the session idle after its turn', working)
    t.same(Object.keys(idle.activity[0] ?? {}).sort(), ['model', 'project', 'since', 'status'], 'idle: no tool')

    for (const { body } of service.requests) {
      for (const secret of [home.projectDir, 'touch approved', 'run a command', 'Bash', 'claude-']) {
        t.notOk(body.includes(secret), `${JSON.stringify(secret)} was in no request`)
      }
    }
    await claude.line('/exit')
    await firstState(service.viewer, offline, 'the session offline after /exit', working)
  })

  t.test('claude -p is live while its turn runs and offline once it has exited', async (t) => {
    const { service, home } = await setUp(t, api)
    const reply = held('a held reply')
    api.script('print mode, held', reply)
    const heartbeat = service.nextRequests(isHeartbeat)
    const run = claudePrint(t, home, 'print mode, held')
    await within(reply.arrived, BOUND_MS, 'the turn to reach the API')
    const { index } = await firstState(service.viewer, sessionStatus('working'), 'the session working during the turn')
    t.match(service.viewer.messages[index], { active: true, status: 'working', sessions: 1 })
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

  t.test("a tool's verb is the one its PreToolUse matcher hands the hook: Read is reading, a tool of no verb (ToolSearch) using tools", async (t) => {
    const { service, home } = await setUp(t, api, SHARE)
    let from = 0
    for (const [tool, input, verb] of [['Read', { file_path: join(home.projectDir, 'notes.txt') }, 'reading'], ['ToolSearch', { query: 'select:Read' }, 'using tools']] as const) {
      await writeFile(join(home.projectDir, 'notes.txt'), 'a note\n')
      const reply = held(`used ${tool}`)
      api.script(`use ${tool}`, toolUse(tool, input), reply)
      const run = claudePrint(t, home, `use ${tool}`)
      await within(reply.arrived, BOUND_MS, `the ${tool} result to reach the API`)
      const { state, index } = await firstState(service.viewer, (state) => state.activity[0]?.tool === verb, `the session ${verb}`, from)
      t.match(state.activity[0], { status: 'working', tool: verb }, `${tool}: working, ${verb}`)
      reply.release()
      t.equal((await within(run.exited, BOUND_MS, 'claude -p to exit')).code, 0)
      from = (await firstState(service.viewer, offline, 'the session offline', index)).index + 1
    }
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

  t.test('/clear inside a running session never shows viewers offline (issue 10 item 12), and keeps the model', async (t) => {
    const { service, home } = await setUp(t, api, 'model')
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
    const model = before.activity[0]?.model
    t.match(model, MODEL_NAME, 'the first session shows the model its SessionStart named')
    t.same(seen.flatMap(({ activity }) => activity.map((entry) => entry.model)), seen.flatMap(({ activity }) => activity.map(() => model)),
      'so does the session after /clear, whose SessionStart names none')

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

  t.test('the CLI called nothing the fake API does not know', async (t) => {
    t.same(api.unexpected, [])
  })
}
