import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import t, { type Test } from 'tap'
import type { ActivityEntry, PublicState } from '../../src/live/public-state.ts'
import {
  assertQuiet, type ClaudeCodeOptions, continueStart, DEV_DIR, eventually, hookInput, isHeartbeatOf, laptop, ownClaudeCode, PROJECT_DIR, SESSION_A, SESSION_B, SESSION_C,
  sessionEnd, sessionStart, startServer, type HookRun, type Laptop
} from '../helpers/hooks.ts'

/**
 * What a session is doing, as the hooks tell it (event.sh, start.sh, heartbeat-loop.sh), and what of
 * it leaves the laptop: the real scripts, run by the Claude Code stand-in with the JSON Claude Code
 * gives them, against a real cc-live; what is asserted is what viewers see and every byte sent.
 */

t.setTimeout(120_000)

// What Claude Code 2.1.332 gives the hooks, field for field (see README "Tests with the real Claude Code").
const PROMPT = 'please fix the login bug in secret-plan.md'
const COMMAND = 'rm -rf build && make deploy'
const FILE = `${PROJECT_DIR}/secret-plan.md`
const prompt = (sessionId: string): string =>
  hookInput('UserPromptSubmit', sessionId, { prompt_id: 'p-1', permission_mode: 'default', prompt: PROMPT })
const toolInputOf = (tool: string): Record<string, unknown> =>
  tool === 'Bash' ? { command: COMMAND, description: 'Deploy' } : { file_path: FILE }
const toolEvent = (event: string, sessionId: string, tool: string, detail: Record<string, unknown> = {}): string =>
  hookInput(event, sessionId, { prompt_id: 'p-1', permission_mode: 'default', tool_name: tool, tool_input: toolInputOf(tool), ...detail })
const preToolUse = (sessionId: string, tool: string): string => toolEvent('PreToolUse', sessionId, tool, { tool_use_id: 'toolu_1' })
const postToolUse = (sessionId: string, tool: string, response: unknown = { stdout: `deployed ${FILE}`, stderr: '' }): string =>
  toolEvent('PostToolUse', sessionId, tool, { tool_response: response, tool_use_id: 'toolu_1', duration_ms: 12 })
const permissionRequest = (sessionId: string, tool: string): string =>
  toolEvent('PermissionRequest', sessionId, tool, { permission_suggestions: [{ type: 'addDirectories', directories: [PROJECT_DIR] }] })
const notification = (sessionId: string, type: string): string =>
  hookInput('Notification', sessionId, { prompt_id: 'p-1', message: `Claude needs your attention in ${PROJECT_DIR}`, notification_type: type })
const stop = (sessionId: string): string =>
  hookInput('Stop', sessionId, { prompt_id: 'p-1', permission_mode: 'default', stop_hook_active: false, last_assistant_message: `Fixed ${FILE}`, background_tasks: [] })
const preCompact = (sessionId: string, trigger: 'manual' | 'auto'): string =>
  hookInput('PreCompact', sessionId, { prompt_id: 'p-1', trigger, custom_instructions: null })

/** Everything above that must never leave the laptop, whatever is shared. */
const PRIVATE = [PROJECT_DIR, 'secret-plan', 'rm -rf', 'make deploy', 'login bug', 'Bash', 'Read', 'Edit', 'claude-opus', '[1m]', '.jsonl', 'toolu_', 'p-1']

const PUBLIC_PROJECT = 'my "blog"'

/** What a viewer sees of the one session: its status and shared fields, without `since`. */
function seen (state: PublicState): Omit<ActivityEntry, 'since'> | undefined {
  const entry = state.activity[0]
  if (entry === undefined) return undefined
  const { since: _since, ...rest } = entry
  return rest
}

const sameAs = (expected: Record<string, string>) => (state: PublicState): boolean =>
  state.sessions === 1 && isDeepStrictEqual(seen(state), expected)

/** The owner's projects file. */
async function mapProjects (user: Laptop, lines: string): Promise<void> {
  await mkdir(dirname(user.projectsFile), { recursive: true })
  await writeFile(user.projectsFile, lines)
}

async function sharing (t: Test, share: string | undefined, projects = `${PROJECT_DIR} = ${PUBLIC_PROJECT}\n`) {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_SHARE: share })
  await mapProjects(user, projects)
  return { server, user, claudeCode: user.claudeCode() }
}

const walkthrough = async (t: Test, options: ClaudeCodeOptions) => {
  const { server, user } = await sharing(t, 'model,project,tool')
  const claudeCode = user.claudeCode(ownClaudeCode(t, options))
  const states = server.watch(t)
  const model = 'Opus 4.8'
  const project = PUBLIC_PROJECT
  const steps: Array<[string, 'start.sh' | 'event.sh' | 'stop.sh', string, Record<string, string> | null]> = [
    ['SessionStart', 'start.sh', sessionStart(SESSION_A), { status: 'idle', model, project }],
    ['UserPromptSubmit', 'event.sh', prompt(SESSION_A), { status: 'working', model, project }],
    ['PreToolUse Read', 'event.sh', preToolUse(SESSION_A, 'Read'), { status: 'working', model, project, tool: 'reading' }],
    ['PostToolUse Read', 'event.sh', postToolUse(SESSION_A, 'Read', { type: 'text', file: { filePath: FILE, content: 'x'.repeat(50_000) } }), null],
    ['PreToolUse Bash', 'event.sh', preToolUse(SESSION_A, 'Bash'), { status: 'working', model, project, tool: 'running commands' }],
    ['PermissionRequest Bash', 'event.sh', permissionRequest(SESSION_A, 'Bash'), { status: 'waiting', model, project, tool: 'running commands' }],
    ['Notification permission_prompt', 'event.sh', notification(SESSION_A, 'permission_prompt'), null],
    ['PostToolUse Bash, once approved', 'event.sh', postToolUse(SESSION_A, 'Bash'), { status: 'working', model, project, tool: 'running commands' }],
    ['PreToolUse Edit', 'event.sh', preToolUse(SESSION_A, 'Edit'), { status: 'working', model, project, tool: 'editing' }],
    ['PostToolUseFailure Edit', 'event.sh', toolEvent('PostToolUseFailure', SESSION_A, 'Edit', { error: 'no such file' }), null],
    ['PreToolUse of an MCP tool', 'event.sh', preToolUse(SESSION_A, 'mcp__github__create_issue'), { status: 'working', model, project, tool: 'using tools' }],
    ['Stop', 'event.sh', stop(SESSION_A), { status: 'idle', model, project }],
    ['Notification idle_prompt', 'event.sh', notification(SESSION_A, 'idle_prompt'), null],
    ['Notification of another type', 'event.sh', notification(SESSION_A, 'auth_success'), null],
    ['SubagentStart', 'event.sh', hookInput('SubagentStart', SESSION_A, { agent_id: 'a1', agent_type: 'Explore' }), { status: 'working', model, project, tool: 'delegating' }],
    ['StopFailure', 'event.sh', hookInput('StopFailure', SESSION_A, { error: 'rate_limit' }), { status: 'idle', model, project }],
    ['Notification elicitation_dialog', 'event.sh', notification(SESSION_A, 'elicitation_dialog'), { status: 'waiting', model, project }],
    // install.sh hooks no such event: a hook the owner added by hand.
    ['an event the hooks do not know', 'event.sh', hookInput('SubagentStop', SESSION_A, { agent_id: 'a1' }), null]
  ]
  for (const [what, script, input, expected] of steps) {
    const run = what === 'an event the hooks do not know' ? claudeCode.runByPath : claudeCode.run
    assertQuiet(t, await run(script, input), `${what}: ${script}`)
    if (expected !== null) await server.whenState(sameAs(expected), 5000)
  }
  const changes = states.map((state) => ({ status: state.status, ...seen(state) }))
  const expected = steps.flatMap(([, , , shown]) => shown === null ? [] : [{ status: shown.status, ...shown }])
  t.same(changes, expected, 'viewers saw each change once, in order, with the session\'s status on top')

  const stopped = await (async () => {
    assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A)), 'SessionEnd: stop.sh')
    return server.whenState((state) => !state.active)
  })()
  t.match(stopped, { status: 'offline', activity: [], lastSeen: String }, 'offline, with when it was last seen')
  await eventually(() => user.loops().length === 0, 'the loop has ended')
  t.same(await readdir(user.stateDir), [], 'nothing left in the state directory')
}

t.test('a session through a prompt, tools, a permission prompt, the end of its turn and its end: what viewers see', async (t) => {
  await t.test('Claude Code 2.1, hooks as install.sh installs them now', (t) => walkthrough(t, {}))
  // Each hook reads the JSON for everything, and find_owner walks up to Claude Code.
  await t.test('an older Claude Code, with the hooks an older install.sh installed', (t) => walkthrough(t, { older: true }))
})

t.test('nothing leaves the laptop but what CC_LIVE_SHARE names: no path, file, command, prompt or tool name, ever', async (t) => {
  const cases: Array<[string | undefined, string[]]> = [
    [undefined, []],
    ['', []],
    ['tool', ['tool']],
    ['model', ['model']],
    ['project', ['project']],
    [' model , bogus,tool ', ['model', 'tool']],
    ['model,project,tool', ['model', 'project', 'tool']]
  ]
  for (const [share, fields] of cases) {
    const { server, user, claudeCode } = await sharing(t, share)
    const requests = server.record(t)
    const name = `CC_LIVE_SHARE=${share === undefined ? '(unset)' : JSON.stringify(share)}`
    for (const input of [sessionStart(SESSION_A), prompt(SESSION_A), preToolUse(SESSION_A, 'Bash'), permissionRequest(SESSION_A, 'Bash')]) {
      await claudeCode.run(input.includes('"SessionStart"') ? 'start.sh' : 'event.sh', input)
    }
    await server.whenState((state) => state.status === 'waiting', 5000)
    await claudeCode.run('event.sh', postToolUse(SESSION_A, 'Bash'))
    await claudeCode.run('event.sh', stop(SESSION_A))
    await server.whenState((state) => state.status === 'idle', 5000)
    await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
    await server.whenState((state) => !state.active)
    await eventually(() => user.loops().length === 0, 'the loop has ended')

    const heartbeats = requests.filter(({ action }) => action === 'heartbeat')
    t.ok(heartbeats.length >= 2, `${name}: heartbeats were sent (${heartbeats.length})`)
    for (const { body } of requests) {
      for (const secret of PRIVATE) t.notOk(body.includes(secret), `${name}: ${JSON.stringify(secret)} is in no request`)
    }
    const sent = new Set(heartbeats.flatMap(({ body }) => Object.keys((JSON.parse(body) as { activity?: object }).activity ?? {})))
    t.same([...sent].sort(), fields, `${name}: the activity carried only ${fields.join(', ') || 'nothing'}`)
    if (share?.includes('bogus') === true) t.match(user.log(), 'CC_LIVE_SHARE names what cannot be shared (bogus)', `${name}: the log names what it ignored`)
  }
})

t.test('projects: only a directory the projects file maps is named; hidden, unmapped and unsendable names are not', async (t) => {
  const cases: Array<[string, string, string | undefined]> = [
    ['the directory itself', `${PROJECT_DIR} = blog\n`, 'blog'],
    ['a directory above it, with a trailing slash', `${DEV_DIR}/ = dev\n`, 'dev'],
    ['a pattern', `# comment\n\n${dirname(DEV_DIR)}/*/blog = any blog\n`, 'any blog'],
    ['the first line that matches wins', `${PROJECT_DIR}/sub = sub\n${DEV_DIR}/* = hidden\n${PROJECT_DIR} = blog\n`, undefined],
    ['a more general line after a specific one', `${PROJECT_DIR} = blog\n${DEV_DIR}/* = hidden\n`, 'blog'],
    ['unmapped', `${DEV_DIR}/other = other\n`, undefined],
    ['a name with a control character', `${PROJECT_DIR} = bl\u0007og\n`, undefined],
    ['a name with a bidi override', `${PROJECT_DIR} = bl\u202eog\n`, undefined],
    ['a name of 49 characters', `${PROJECT_DIR} = ${'b'.repeat(49)}\n`, undefined],
    ['a name of 48 characters, not all ASCII', `${PROJECT_DIR} = ${'é'.repeat(48)}\n`, 'é'.repeat(48)],
    ['no projects file at all', '', undefined]
  ]
  for (const [what, projects, project] of cases) {
    const { server, user, claudeCode } = await sharing(t, 'project', projects)
    if (projects === '') await rm(user.projectsFile)
    const requests = server.record(t)
    await claudeCode.run('start.sh', sessionStart(SESSION_A))
    await claudeCode.run('event.sh', prompt(SESSION_A))
    const state = await server.whenState((state) => state.status === 'working', 5000)
    t.same(seen(state), project === undefined ? { status: 'working' } : { status: 'working', project }, what)
    await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
    await server.whenState((state) => !state.active)
    if (project === undefined) t.notOk(requests.some(({ body }) => body.includes('"project"')), `${what}: no request named a project`)
  }
})

t.test('a burst of 50 tool events in a second: the latest event wins, in a few requests', async (t) => {
  const { server, user, claudeCode } = await sharing(t, 'tool')
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.status === 'idle')
  const requests = server.record(t)
  const tools = ['Read', 'Edit', 'Bash', 'Grep', 'Write', 'Glob']
  const started = Date.now()
  const runs: Array<Promise<HookRun>> = []
  for (let i = 0; i < 48; i++) {
    const tool = tools[i % tools.length] as string
    runs.push(claudeCode.run('event.sh', i % 2 === 0 ? preToolUse(SESSION_A, tool) : postToolUse(SESSION_A, tool)))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // Last, a tool that asks for permission: its PreToolUse names it, its PermissionRequest 50 ms later keeps it.
  runs.push(claudeCode.run('event.sh', preToolUse(SESSION_A, 'WebFetch')))
  runs.push(claudeCode.run('event.sh', permissionRequest(SESSION_A, 'WebFetch')))
  for (const run of await Promise.all(runs)) assertQuiet(t, run, 'a hook of the burst')
  const burstMs = Date.now() - started
  const settled = await server.whenState(sameAs({ status: 'waiting', tool: 'browsing' }), 5000)
  t.ok(settled, 'the last event of the burst is what viewers see')
  // One more heartbeat after the burst: nothing older comes in later.
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
  t.same(seen(server.state()), { status: 'waiting', tool: 'browsing' }, 'and it stays')
  const sentDuringBurst = requests.filter(({ action }) => action === 'heartbeat').length
  t.ok(sentDuringBurst <= Math.ceil((Date.now() - started) / 250) + 2,
    `coalesced: ${sentDuringBurst} heartbeats for 50 events over ${burstMs} ms`)
  const times = (await Promise.all(runs)).map(({ ms }) => ms).sort((a, b) => a - b)
  t.comment(`event.sh under the burst: median ${times[times.length >> 1]?.toFixed(1)} ms, fastest ${times[0]?.toFixed(1)} ms`)
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
  await eventually(() => user.loops().length === 0, 'the loop has ended')
})

t.test('hooks that run at once: an earlier event whose hook finishes last still loses to the later one', async (t) => {
  const { server, claudeCode } = await sharing(t, 'tool')
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await claudeCode.run('event.sh', prompt(SESSION_A))
  await server.whenState((state) => state.status === 'working')
  // Claude Code starts a Notification hook first (a permission prompt's, which reads its type from
  // the JSON), and the Stop hook after it; the first gets its input late, so it writes its record
  // after the Stop hook has written its own.
  const early = claudeCode.run('event.sh', notification(SESSION_A, 'permission_prompt'), 1000)
  await new Promise((resolve) => setTimeout(resolve, 20))
  const late = claudeCode.run('event.sh', stop(SESSION_A))
  const finishedFirst = await Promise.race([early.then(() => 'Notification'), late.then(() => 'Stop')])
  t.equal(finishedFirst, 'Stop', 'the later hook finished first')
  assertQuiet(t, await early, 'the earlier hook')
  await server.whenState(sameAs({ status: 'idle' }), 5000)
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
  t.same(seen(server.state()), { status: 'idle' }, 'idle, as the later event said')
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
})

t.test('the model: from SessionStart, carried over /clear and /resume to the next session, updated by a compaction', async (t) => {
  const { server, user } = await sharing(t, 'model')
  const claudeCode = user.claudeCode(ownClaudeCode(t))
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState(sameAs({ status: 'idle', model: 'Opus 4.8' }))
  const states = server.watch(t)

  for (const [how, from, to] of [['clear', SESSION_A, SESSION_B], ['resume', SESSION_B, SESSION_C]] as const) {
    await claudeCode.switchSession(from, to, how)
    await eventually(() => user.loopsOf(from).length === 0, `the session before ${how} has ended`)
    await server.whenState(sameAs({ status: 'idle', model: 'Opus 4.8' }))
    t.same(states.flatMap(({ activity }) => activity).filter(({ model }) => model !== 'Opus 4.8'), [], `${how}: every session shown kept the model`)
  }

  await claudeCode.run('start.sh', sessionStart(SESSION_C, 'compact', 'claude-sonnet-4-5-20250929'))
  await server.whenState(sameAs({ status: 'idle', model: 'Sonnet 4.5' }))
  t.pass('a compaction names the model in use now')

  const other = user.claudeCode(ownClaudeCode(t))
  await other.run('start.sh', continueStart(SESSION_C))
  const both = await server.whenState((state) => state.sessions === 2)
  t.same(both.activity.map(({ model }) => model ?? 'none').sort(), ['Sonnet 4.5', 'none'],
    'claude -p --continue, another process whose SessionStart names no model, shows none')
  await other.run('stop.sh', sessionEnd(SESSION_C, 'other'))
  await claudeCode.run('stop.sh', sessionEnd(SESSION_C))
  await server.whenState((state) => !state.active)
})

t.test('a /compact the owner asked for ends idle; one in the middle of a turn goes on working', async (t) => {
  const { server, claudeCode } = await sharing(t, '')
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState(sameAs({ status: 'idle' }))

  await claudeCode.run('event.sh', preCompact(SESSION_A, 'manual'))
  await server.whenState(sameAs({ status: 'working' }))
  await claudeCode.run('start.sh', sessionStart(SESSION_A, 'compact'))
  await server.whenState(sameAs({ status: 'idle' }))
  t.pass('/compact: working, then idle')

  await claudeCode.run('event.sh', prompt(SESSION_A))
  await claudeCode.run('event.sh', preCompact(SESSION_A, 'auto'))
  await server.whenState(sameAs({ status: 'working' }))
  await claudeCode.run('start.sh', sessionStart(SESSION_A, 'compact'))
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
  t.same(seen(server.state()), { status: 'working' }, 'an automatic compaction: still working')
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
})

t.test('an event hook for a session without a running loop, or without the settings, does nothing', async (t) => {
  const server = await startServer(t)
  const requests = server.record(t)
  for (const [what, settings] of Object.entries({
    'no loop': { CC_LIVE_ENDPOINT: server.endpoint },
    'no endpoint': { CC_LIVE_ENDPOINT: undefined }
  })) {
    const user = await laptop(t, settings)
    const claudeCode = user.claudeCode()
    await mkdir(user.stateDir, { recursive: true, mode: 0o700 })
    for (const input of [prompt(SESSION_A), preToolUse(SESSION_A, 'Bash'), stop(SESSION_A)]) {
      assertQuiet(t, await claudeCode.run('event.sh', input), `${what}: event.sh`)
    }
    // Input no Claude Code sends, to event.sh as a hook added by hand.
    for (const input of ['', 'not JSON', null]) {
      assertQuiet(t, await claudeCode.runByPath('event.sh', input), `${what}: event.sh without an event`)
    }
    t.same(await readdir(user.stateDir), [], `${what}: nothing written`)
    t.same(user.leftovers(), [], `${what}: nothing started`)
  }
  t.same(requests, [], 'the server heard nothing')
})

t.test('an activity the server refuses is sent no more; the session stays live with its status', async (t) => {
  // A laptop whose check of non-ASCII names lets everything through: a perl that says yes.
  const bin = await mkdtemp(join(tmpdir(), 'cc-live-perl-'))
  t.teardown(() => rm(bin, { recursive: true, force: true }))
  await writeFile(join(bin, 'perl'), '#!/bin/sh\nexit 0\n')
  await chmod(join(bin, 'perl'), 0o755)
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_SHARE: 'project', PATH: `${bin}:${process.env.PATH ?? ''}` })
  await mapProjects(user, `${PROJECT_DIR} = bl\u202eog\n`)
  const claudeCode = user.claudeCode()
  const requests = server.record(t)
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await claudeCode.run('event.sh', prompt(SESSION_A))
  await server.whenState(sameAs({ status: 'working' }), 5000)
  await claudeCode.run('event.sh', stop(SESSION_A))
  await server.whenState(sameAs({ status: 'idle' }), 5000)
  const refused = requests.filter(({ statusCode }) => statusCode === 400)
  t.equal(refused.length, 1, 'the server refused the activity once')
  t.match(user.log(), 'the server refused the activity', 'the log says so')
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
})

t.test('a status record planted as a symlink is never read', async (t) => {
  const { server, user, claudeCode } = await sharing(t, 'tool')
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState(sameAs({ status: 'idle' }))
  const presence = claudeCode.presence(SESSION_A)
  const planted = join(user.home, 'planted')
  await writeFile(planted, 'working\nediting\n/\n.\n')
  await symlink(planted, join(user.stateDir, `${presence}.status.99999999999.1`))
  await claudeCode.run('event.sh', stop(SESSION_A))
  await server.nextRequest(isHeartbeatOf(presence))
  await server.nextRequest(isHeartbeatOf(presence))
  t.same(seen(server.state()), { status: 'idle' }, 'a symlink is no record')
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A))
})

t.test('a PostToolUse records something only after a waiting status: it takes the mark the waiting left', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode()
  // A stand-in loop that never reads: what the hooks write stays where the test can see it.
  const loop = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.teardown(() => loop.kill())
  await mkdir(user.stateDir, { recursive: true, mode: 0o700 })
  const presence = claudeCode.presence(SESSION_A)
  await writeFile(join(user.stateDir, `${presence}.pid`), `${loop.pid}\n`)
  const records = async () => (await readdir(user.stateDir)).filter((name) => name.startsWith(`${presence}.status.`)).length
  const marked = async () => (await readdir(user.stateDir)).includes(`${presence}.waiting`)

  assertQuiet(t, await claudeCode.run('event.sh', preToolUse(SESSION_A, 'Bash')), 'PreToolUse')
  t.equal(await records(), 1, 'PreToolUse records working')
  for (const input of [postToolUse(SESSION_A, 'Bash'), toolEvent('PostToolUseFailure', SESSION_A, 'Bash', { error: 'exit 1' })]) {
    assertQuiet(t, await claudeCode.run('event.sh', input), 'a PostToolUse with no waiting before it')
  }
  t.equal(await records(), 1, 'nothing recorded for them: the session was working already')

  assertQuiet(t, await claudeCode.run('event.sh', permissionRequest(SESSION_A, 'Bash')), 'PermissionRequest')
  t.same([await records(), await marked()], [2, true], 'waiting: recorded, and marked')
  assertQuiet(t, await claudeCode.run('event.sh', notification(SESSION_A, 'permission_prompt')), 'the Notification of the same prompt, marked already')
  t.same([await records(), await marked()], [3, true], 'recorded, still marked')
  assertQuiet(t, await claudeCode.run('event.sh', postToolUse(SESSION_A, 'Bash')), 'the PostToolUse once approved')
  t.same([await records(), await marked()], [4, false], 'working again: recorded, the mark taken')
  assertQuiet(t, await claudeCode.run('event.sh', postToolUse(SESSION_A, 'Bash')), 'the next PostToolUse')
  t.equal(await records(), 4, 'nothing recorded')
})
