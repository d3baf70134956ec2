import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { lstatSync, readdirSync, statSync } from 'node:fs'
import { chmod, chown, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { TEST_KEY } from '../helpers/app.ts'
import {
  assertQuiet, continueStart, eventually, INTERVAL_SECONDS, isHeartbeatOf, laptop, ownClaudeCode, readProc, readText,
  running, SESSION_A, SESSION_B, SESSION_C, sessionEnd, sessionStart, startServer, TTL_SECONDS, type ApiRequest
} from '../helpers/hooks.ts'
import { freePort } from '../helpers/ports.ts'
import { IS_OFFLINE } from '../helpers/states.ts'

/** The hooks of a session's life: SessionStart (start.sh) and SessionEnd (stop.sh), and the loop between. */

const HOOK_BUDGET_MS = 200
/** How long a session ended by /clear or /resume waits for the next one (HANDOVER_SECONDS in common.sh). */
const HANDOVER_SECONDS = 10

// Real processes waiting on real ones, and one test that waits out the handover bound: with other
// files running beside it, this file can take longer than tap's default 30 s.
t.setTimeout(120_000)

t.test('two concurrent sessions stay live independently; each stop ends only its own', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const first = user.claudeCode()
  const second = user.claudeCode(ownClaudeCode(t))

  assertQuiet(t, await first.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  assertQuiet(t, await second.run('start.sh', sessionStart(SESSION_B)), 'start.sh')
  t.match(await server.whenState((state) => state.sessions === 2), { active: true, sessions: 2 })
  const loopA = user.pidFile(first.presence(SESSION_A))
  const loopB = user.pidFile(second.presence(SESSION_B))
  t.same(user.loops().map(({ pid }) => pid).sort(), [loopA, loopB].sort(), 'one loop per session, each named with its Claude Code')

  assertQuiet(t, await first.run('stop.sh', sessionEnd(SESSION_A)), 'stop.sh')
  t.notOk(running(loopA), "the first session's loop is gone when stop.sh returns")
  t.match(await server.whenState((state) => state.sessions === 1), { active: true }, 'the first session has left')
  const afterStop: ApiRequest[] = []
  const record = (request: ApiRequest): void => { afterStop.push(request) }
  server.requests.on('request', record)
  await server.nextRequest(isHeartbeatOf(second.presence(SESSION_B)))
  await server.nextRequest(isHeartbeatOf(second.presence(SESSION_B)))
  server.requests.off('request', record)
  t.match(server.state(), { active: true, sessions: 1 }, 'the second session is still live')
  t.same(afterStop.filter(isHeartbeatOf(first.presence(SESSION_A))), [], 'no heartbeat for the stopped session')
  t.ok(running(loopB), "the second session's loop carries on")

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
  const loop = user.pidFile(claudeCode.presence(SESSION_A))

  const killedAt = Date.now()
  await claudeCode.kill()
  await server.whenState((state) => !state.active, (INTERVAL_SECONDS + TTL_SECONDS) * 1000 + 1000)
  const elapsed = Date.now() - killedAt
  t.ok(elapsed < (INTERVAL_SECONDS + TTL_SECONDS) * 1000, `offline ${elapsed} ms after the kill`)
  await eventually(() => !running(loop), 'the loop has exited')
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
    // A loop the machine's load kept from starting in time for stop.sh to know it ends by itself.
    await eventually(() => user.loops().length === 0, `no loop left with ${name}`)
  }
})

t.test('the key is in no command line and in no state file; the state is private', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode()
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  for (let heartbeats = 0; heartbeats < 3; heartbeats++) await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
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

t.test('a state directory that others can write, that is not the user\'s, or that is a symlink is refused: nothing written or started', async (t) => {
  const server = await startServer(t)
  const requests: ApiRequest[] = []
  server.requests.on('request', (request: ApiRequest) => requests.push(request))
  const cases: Record<string, (stateDir: string, home: string) => Promise<string>> = {
    'writable by others': async (stateDir) => { await mkdir(stateDir, { recursive: true }); await chmod(stateDir, 0o777); return stateDir },
    'writable by others, sticky like /tmp': async (stateDir) => { await mkdir(stateDir, { recursive: true }); await chmod(stateDir, 0o1777); return stateDir },
    'writable by the group': async (stateDir) => { await mkdir(stateDir, { recursive: true }); await chmod(stateDir, 0o770); return stateDir },
    'a symlink to a private directory': async (stateDir, home) => {
      const elsewhere = join(home, 'elsewhere')
      await mkdir(elsewhere, { mode: 0o700 })
      await mkdir(join(stateDir, '..'), { recursive: true })
      await symlink(elsewhere, stateDir)
      return elsewhere
    }
  }
  if (process.getuid?.() === 0) {
    cases['owned by another user'] = async (stateDir) => { await mkdir(stateDir, { recursive: true, mode: 0o700 }); await chown(stateDir, 65534, 65534); return stateDir }
  } else {
    t.comment('not root: the case of a directory owned by another user needs chown and is left out')
  }
  for (const [name, prepare] of Object.entries(cases)) {
    const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
    const written = await prepare(user.stateDir, user.home)
    const mode = lstatSync(user.stateDir).mode
    const claudeCode = user.claudeCode()
    assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), `start.sh with a state directory ${name}`)
    t.same(await readdir(written), [], `${name}: start.sh wrote nothing`)
    t.same(user.leftovers(), [], `${name}: no loop started`)
    assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A, 'clear')), `stop.sh with a state directory ${name}`)
    assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A)), `stop.sh with a state directory ${name}`)
    t.same(await readdir(written), [], `${name}: stop.sh wrote nothing`)
    t.same(user.leftovers(), [], `${name}: nothing started`)
    t.equal(lstatSync(user.stateDir).mode, mode, `${name}: left as it was`)
  }
  t.same(requests, [], 'the server heard nothing')
})

t.test('a symlink planted in the state directory is never written through', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_INTERVAL_SECONDS: 'soon' })
  const claudeCode = user.claudeCode()
  const victim = join(user.home, 'victim')
  await writeFile(victim, 'precious\n', { mode: 0o600 })
  await mkdir(user.stateDir, { recursive: true, mode: 0o700 })
  // Every name the hooks write: the log, the session's pid and ending files, and the temporary
  // pid file of every process id start.sh may get next (its own id is in the name), whether the
  // name carries the Claude Code's id or not.
  const names = ['cc-live.log', 'cc-live.log.1']
  for (const session of [SESSION_A, claudeCode.presence(SESSION_A)]) {
    names.push(`${session}.pid`, `${session}.ending`)
    const lastPid = Number(readText('/proc/sys/kernel/ns_last_pid'))
    for (let pid = lastPid + 1; pid <= lastPid + 500; pid++) names.push(`${session}.pid.${pid}`)
  }
  await Promise.all(names.map((name) => symlink(victim, join(user.stateDir, name))))

  const heartbeat = server.nextRequest((request) => request.action === 'heartbeat')
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  await heartbeat
  await eventually(() => user.log().includes('CC_LIVE_INTERVAL_SECONDS must be a positive number'), 'the loop has logged')
  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A)), 'stop.sh')
  await server.whenState((state) => !state.active)
  t.equal(readText(victim), 'precious\n', 'the file the symlinks point at is untouched')
  t.notOk(lstatSync(join(user.stateDir, 'cc-live.log')).isSymbolicLink(), 'the log is a file of its own')
})

t.test('resume and compact keep the one loop; a new Claude Code resuming the session of a crashed one takes it over', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const first = user.claudeCode(ownClaudeCode(t))
  const second = user.claudeCode()
  await first.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.active)
  const loop = user.pidFile(first.presence(SESSION_A))
  for (const source of ['resume', 'compact']) {
    assertQuiet(t, await first.run('start.sh', sessionStart(SESSION_A, source)), `start.sh (${source})`)
    t.same(user.loops().map(({ pid }) => pid), [loop], `after ${source}: still the one loop`)
  }
  t.equal(user.pidFile(first.presence(SESSION_A)), loop, 'the pid file is unchanged')

  await first.kill()
  await second.run('start.sh', sessionStart(SESSION_A, 'resume'))
  await eventually(() => !running(loop), "the crashed Claude Code's loop has ended")
  t.same(user.loops().map(({ pid }) => pid), [user.pidFile(second.presence(SESSION_A))], "one loop, the new Claude Code's")
  await server.nextRequest(isHeartbeatOf(second.presence(SESSION_A)))
  t.match(await server.whenState((state) => state.sessions === 1), { active: true }, 'the session is live, once')
  const survivor = second.presence(SESSION_A)
  t.same(user.stateFiles(), [`${survivor}.model`, `${survivor}.pid`, `${survivor}.status`, 'cc-live.log'], "the crashed one's files are gone")
  await second.run('stop.sh', sessionEnd(SESSION_A))
  await server.whenState((state) => !state.active)
})

t.test('/clear and an in-session /resume hand over to the next session: never offline, same since, the old one gone', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode(ownClaudeCode(t))
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  const { since } = await server.whenState((state) => state.active)
  const states = server.watch(t)
  const requests: ApiRequest[] = []
  server.requests.on('request', (request: ApiRequest) => requests.push(request))

  const switches = [['clear', SESSION_A, SESSION_B], ['resume', SESSION_B, SESSION_C]] as const
  for (const [how, from, to] of switches) {
    const [oldLoop] = user.loopsOf(from)
    for (const run of await claudeCode.switchSession(from, to, how)) assertQuiet(t, run, `${how}: a hook`)
    await eventually(() => !running(oldLoop!) && user.loops().length === 1, `the loop of the session before ${how} has ended`)
    await server.whenState((state) => state.active && state.sessions === 1)
    t.same(states.filter((state) => !state.active), [], `${how}: never offline`)
    t.equal(server.state().since, since, `${how}: since is kept`)
    const firstHeartbeat = requests.findIndex(isHeartbeatOf(claudeCode.presence(to)))
    const oldStop = requests.findIndex((request) => request.action === 'stop' && request.sessionId === claudeCode.presence(from))
    t.ok(firstHeartbeat >= 0 && oldStop > firstHeartbeat, `${how}: the old session's stop came after the new one's first heartbeat`)
  }
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_C)))
  t.same(requests.filter(({ sessionId }) => sessionId === claudeCode.presence(SESSION_A)).slice(-1).map(({ action }) => action),
    ['stop'], 'nothing came for the first session after its stop')
  t.match(server.state(), { active: true, sessions: 1, since }, 'one session, live since the start')

  // A /resume of the very session that just ended: it goes on under the same id, with a new loop.
  const [loopBefore] = user.loopsOf(SESSION_C)
  for (const run of await claudeCode.switchSession(SESSION_C, SESSION_C, 'resume')) assertQuiet(t, run, 'resume of itself: a hook')
  t.notOk(running(loopBefore!), 'resume of itself: the ending loop has made way')
  await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_C)))
  t.same(user.loopsOf(SESSION_C), [user.pidFile(claudeCode.presence(SESSION_C))], 'resume of itself: one loop, the new one')
  t.same(requests.filter((request) => request.action === 'stop' && request.sessionId === claudeCode.presence(SESSION_C)), [],
    'resume of itself: no stop for it')
  t.same(states.filter((state) => !state.active), [], 'resume of itself: never offline')

  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_C)), 'stop.sh')
  await server.whenState((state) => !state.active)
  await eventually(() => user.loops().length === 0, 'no loop left')
  t.same(await readdir(user.stateDir), [], 'no state left')
})

t.test('with a long interval the handover is as prompt, and an exit right after a /clear ends every session at once', async (t) => {
  const server = await startServer(t, 60)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_INTERVAL_SECONDS: '30' })
  const claudeCode = user.claudeCode(ownClaudeCode(t))
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  const { since } = await server.whenState((state) => state.active)
  const states = server.watch(t)

  const oldStop = server.nextRequest((request) => request.action === 'stop' && request.sessionId === claudeCode.presence(SESSION_A))
  await claudeCode.switchSession(SESSION_A, SESSION_B, 'clear')
  await oldStop
  t.match(await server.whenState((state) => state.sessions === 1), { active: true, since }, 'the new session alone, within one interval')

  // The user clears again and quits before the newest session's first heartbeat.
  await claudeCode.switchSession(SESSION_B, SESSION_C, 'clear')
  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_C)), 'stop.sh')
  await server.whenState((state) => !state.active)
  t.same(states.filter((state) => !state.active).length, 1, 'offline once, at the end')
  await eventually(() => user.loops().length === 0, 'no loop left')
  t.same(await readdir(user.stateDir), [], 'no state left')
})

t.test('a /clear after which Claude Code exits without a new session: the old session still ends', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode(ownClaudeCode(t))
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.active)
  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd(SESSION_A, 'clear')), 'stop.sh')
  await claudeCode.kill()
  await server.whenState((state) => !state.active, (INTERVAL_SECONDS + TTL_SECONDS) * 1000 + 1000)
  await eventually(() => user.loops().length === 0, 'the loop has ended')
  t.same((await readdir(user.stateDir)).filter((name) => name !== 'cc-live.log'), [], 'no pid file left')
  t.match(user.log(), `Claude Code ${claudeCode.pid} is gone before its next session was heard`)
})

t.test('a /clear with no next session while Claude Code runs on: the old session ends after the handover bound', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const claudeCode = user.claudeCode(ownClaudeCode(t))
  await claudeCode.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.active)
  await claudeCode.run('stop.sh', sessionEnd(SESSION_A, 'clear'))
  t.ok(server.state().active, 'live while the next session may still come')
  await server.whenState((state) => !state.active, (HANDOVER_SECONDS + 2) * 1000)
  await eventually(() => user.loops().length === 0, 'the loop has ended')
  t.match(user.log(), `no next session of Claude Code ${claudeCode.pid} was heard within ${HANDOVER_SECONDS} s`)
  t.same(await readdir(user.stateDir), ['cc-live.log'], 'no pid file left')
})

t.test('a second Claude Code on the same session (claude -p --continue) is live on its own; its end leaves the first live', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const interactive = user.claudeCode(ownClaudeCode(t))
  const printMode = user.claudeCode(ownClaudeCode(t))
  assertQuiet(t, await interactive.run('start.sh', sessionStart(SESSION_A)), 'start.sh')
  const { since } = await server.whenState((state) => state.active)
  const [firstLoop] = user.loopsOf(SESSION_A)
  const states = server.watch(t)

  assertQuiet(t, await printMode.run('start.sh', continueStart(SESSION_A)), 'start.sh (-p --continue)')
  t.ok(running(firstLoop!), "the interactive Claude Code's loop carries on")
  t.match(await server.whenState((state) => state.sessions === 2), { active: true, since }, 'two Claude Codes, two sessions live')
  assertQuiet(t, await printMode.run('stop.sh', sessionEnd(SESSION_A, 'other')), 'stop.sh (-p ends)')
  await server.whenState((state) => state.sessions === 1)
  await server.nextRequest(isHeartbeatOf(interactive.presence(SESSION_A)))
  await server.nextRequest(isHeartbeatOf(interactive.presence(SESSION_A)))
  t.match(server.state(), { active: true, sessions: 1, since }, 'the interactive session is still live, since its start')
  t.same(states.filter((state) => !state.active), [], 'never offline')
  await eventually(() => user.loops().length === 1, "the second Claude Code's loop has ended")
  t.same(user.loops().map(({ pid }) => pid), [firstLoop], 'the first one carries on')

  assertQuiet(t, await interactive.run('stop.sh', sessionEnd(SESSION_A)), 'stop.sh')
  await server.whenState((state) => !state.active)
  await eventually(() => user.loops().length === 0, 'no loop left')
  t.same(await readdir(user.stateDir), [], 'no state left')
})

t.test('a Claude Code resuming the session of one that crashed ends the dead presence at once, not at its next interval', async (t) => {
  const server = await startServer(t, 60)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_INTERVAL_SECONDS: '30' })
  const crashed = user.claudeCode(ownClaudeCode(t))
  const resuming = user.claudeCode(ownClaudeCode(t))
  await crashed.run('start.sh', sessionStart(SESSION_A))
  const { since } = await server.whenState((state) => state.active)
  const states = server.watch(t)
  await crashed.kill()

  const deadStop = server.nextRequest((request) => request.action === 'stop' && request.sessionId === crashed.presence(SESSION_A))
  assertQuiet(t, await resuming.run('start.sh', sessionStart(SESSION_A, 'resume')), 'start.sh')
  await deadStop
  t.match(await server.whenState((state) => state.sessions === 1), { active: true, since }, 'the resumed session alone')
  t.same(states.filter((state) => !state.active), [], 'never offline')
  await eventually(() => user.loops().length === 1, "the crashed Claude Code's loop has ended")
  t.match(user.log(), `Claude Code ${crashed.pid} is gone without a SessionEnd`)
  await resuming.run('stop.sh', sessionEnd(SESSION_A))
  await server.whenState((state) => !state.active)
})

t.test("a session without an id, from no stdin or input that is not the JSON, is its Claude Code's default session; its stop ends only it", async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint })
  const first = user.claudeCode()
  const second = user.claudeCode(ownClaudeCode(t))
  const requests: ApiRequest[] = []
  server.requests.on('request', (request: ApiRequest) => requests.push(request))

  const firstHeartbeat = server.nextRequest(isHeartbeatOf(first.presence('')))
  assertQuiet(t, await first.run('start.sh', null), 'start.sh without stdin')
  t.match(await firstHeartbeat, { statusCode: 200 }, 'heartbeats name the default session of this Claude Code')
  assertQuiet(t, await first.run('start.sh', 'not JSON at all'), 'start.sh with other input')
  t.equal(user.loops().length, 1, 'the same session: one loop')
  await second.run('start.sh', null)
  await first.run('start.sh', sessionStart(SESSION_A))
  await server.whenState((state) => state.sessions === 3)

  const stop = server.nextRequest((request) => request.action === 'stop')
  assertQuiet(t, await first.run('stop.sh', '{"session_id": "not/an id"}'), 'stop.sh with an invalid id')
  t.match(await stop, { sessionId: first.presence(''), statusCode: 200 }, "the first Claude Code's default session stops")
  t.match(server.state(), { active: true, sessions: 2 }, 'and only it')
  t.same(user.loops().map(({ pid }) => pid).sort(), [user.pidFile(second.presence('')), user.pidFile(first.presence(SESSION_A))].sort(),
    "the other Claude Code's default session and the named one go on")

  assertQuiet(t, await second.run('stop.sh', null), 'stop.sh without stdin')
  await server.whenState((state) => state.sessions === 1)
  await first.run('stop.sh', sessionEnd(SESSION_A))
  await server.whenState((state) => !state.active)
  t.same(requests.filter(({ sessionId }) => sessionId === undefined), [], 'no request without an id, which would stop every session')
})

t.test('stale pid files and the records of gone Claude Codes are swept, and a pid now used by another process is never taken for a loop', async (t) => {
  const server = await startServer(t)
  const user = await laptop(t, { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_INTERVAL_SECONDS: '0' })
  const claudeCode = user.claudeCode()
  const bystander = spawn('sleep', ['30'], { stdio: 'ignore' })
  t.teardown(() => bystander.kill())
  const exited = spawn('true')
  await once(exited, 'exit')
  await mkdir(user.stateDir, { recursive: true, mode: 0o700 })
  await writeFile(join(user.stateDir, 'crashed:1.pid'), `${exited.pid}\n`)
  await writeFile(join(user.stateDir, 'cleared:1.ending'), `${exited.pid}\n`)
  await writeFile(join(user.stateDir, `half-claimed:1.pid.${exited.pid}`), '')
  await writeFile(join(user.stateDir, `gone:${exited.pid}.model`), 'Opus 4.8\n')
  await writeFile(join(user.stateDir, `gone:${exited.pid}.model.${exited.pid}`), '')
  await writeFile(join(user.stateDir, `gone:${exited.pid}.status.123.456`), 'idle\n\n/home/dev/blog\n.\n')
  const rebooted = claudeCode.presence('rebooted')
  await writeFile(join(user.stateDir, `${rebooted}.pid`), `${bystander.pid}\n`)

  assertQuiet(t, await claudeCode.run('stop.sh', sessionEnd('rebooted')), 'stop.sh')
  t.ok(running(bystander.pid!), 'stop.sh leaves the process that now has that pid alone')
  assertQuiet(t, await claudeCode.run('start.sh', sessionStart('rebooted', 'resume')), 'start.sh')
  await server.nextRequest(isHeartbeatOf(rebooted))
  t.ok(running(bystander.pid!), 'so does start.sh, resuming that session')
  await eventually(() => !readdirSync(user.stateDir).includes('crashed:1.pid'), 'the stale files are swept')
  t.same(user.stateFiles(), ['cc-live.log', `${rebooted}.model`, `${rebooted}.pid`, `${rebooted}.status`], 'only the live session is left')
  t.same(user.loops().map(({ pid }) => pid), [user.pidFile(rebooted)], 'its loop')
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
  const tools = ['sh', 'curl', 'date', 'wc', 'mv', 'rm', 'ln', 'mkdir', 'chmod', 'sleep', 'tr', 'find', 'id']
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
    await server.nextRequest(isHeartbeatOf(claudeCode.presence(SESSION_A)))
    const loop = user.pidFile(claudeCode.presence(SESSION_A))
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
