import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { DEFAULT_SESSION } from '../../src/live/sessions.ts'
import { readSessionId } from '../../src/state-file/readers.ts'
import { parseSessions } from '../../src/state-file/format.ts'
import { AUTH, buildTestApp } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { captureLogs } from '../helpers/logs.ts'
import { makeFifo, makeSocket } from '../helpers/special-files.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { injectViewer } from '../helpers/viewer.ts'
import { IS_OFFLINE, OFFLINE } from '../helpers/states.ts'
import type { LiveState } from '../../src/live/state.ts'

const START = Date.parse('2026-01-01T00:00:00.000Z')

type Test = Parameters<typeof buildTestApp>[0]

/** One run of the service on the given state file, its clock starting at `atMs`. */
async function run (t: Test, path: string, atMs: number, logs?: ReturnType<typeof captureLogs>) {
  const clock = new FakeClock(atMs)
  // The history would keep its database beside the state file, in the directory these tests look at.
  const app = await buildTestApp(t, { clock, env: { CC_LIVE_STATE_FILE: path, CC_LIVE_HISTORY: 'off', ...logs?.env }, logger: logs?.logger })
  const post = (url: string, sessionId?: string) =>
    app.inject({ method: 'POST', url, headers: AUTH, ...(sessionId && { payload: { session_id: sessionId } }) })
  return { app, clock, post }
}

t.test('a restart brings back every live session with its since, and viewers see no offline', async (t) => {
  const path = join(await tempDir(t), 'state.json')
  const first = await run(t, path, START)
  await first.post('/api/live/heartbeat', 'a')
  first.clock.advance(5000)
  const live = (await first.post('/api/live/heartbeat', 'b')).json()
  await first.app.close()

  const second = await run(t, path, START + 20_000)
  t.same(second.app.liveState.snapshot.state, live, 'same sessions, same since')
  const viewer = await injectViewer(second.app)
  t.same(await viewer.upTo(1), [live], "a viewer's first message is the live state")
  second.clock.advance(40_000)
  t.same((await viewer.nth(2)), { ...live, seq: live.seq + 1, sessions: 1, activity: live.activity.slice(0, 1) }, 'a expires at its own deadline')
  second.clock.advance(5000)
  t.same((await viewer.nth(3)), { ...IS_OFFLINE, seq: live.seq + 2, lastSeen: new Date(START + 65_000).toISOString() }, 'then b at its own')
  viewer.socket.terminate()
})

t.test('a heartbeat that only extends a deadline is saved too', async (t) => {
  const path = join(await tempDir(t), 'state.json')
  const first = await run(t, path, START)
  await first.post('/api/live/heartbeat', 'a')
  first.clock.advance(50_000)
  await first.post('/api/live/heartbeat', 'a')
  await first.app.close()

  // Past the first deadline (START + 60 s), before the extended one (START + 110 s).
  const second = await run(t, path, START + 100_000)
  t.match(second.app.liveState.snapshot.state, { active: true, since: new Date(START).toISOString(), sessions: 1 })
  second.clock.advance(10_000)
  t.match(second.app.liveState.snapshot.state, { ...IS_OFFLINE, lastSeen: new Date(START + 110_000).toISOString() })
})

t.test('sessions that expired while the service was down are not restored', async (t) => {
  const path = join(await tempDir(t), 'state.json')
  const first = await run(t, path, START)
  await first.post('/api/live/heartbeat', 'a')
  await first.app.close()
  const second = await run(t, path, START + 60_000)
  t.match(second.app.liveState.snapshot.state, { ...IS_OFFLINE, lastSeen: new Date(START + 60_000).toISOString() }, 'last seen when it expired')
})

t.test('a stop is saved: after a restart the session stays ended', async (t) => {
  const path = join(await tempDir(t), 'state.json')
  const first = await run(t, path, START)
  await first.post('/api/live/heartbeat', 'a')
  await first.post('/api/live/heartbeat', 'b')
  await first.post('/api/live/stop', 'a')
  await first.app.close()
  t.match(parseSessions(await readFile(path, 'utf8'), START), { sinceMs: START, sessions: [{ id: 'b', expiresAtMs: START + 60_000 }] })
  t.equal(parseSessions(await readFile(path, 'utf8'), START).sessions.length, 1)
  const second = await run(t, path, START + 1000)
  t.equal(second.app.liveState.snapshot.state.sessions, 1)
})

t.test('a missing file is a clean start without a warning; the file appears, private, on the first change', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  const logs = captureLogs('warn')
  const { app, post } = await run(t, path, START, logs)
  t.same(app.liveState.snapshot.state, OFFLINE)
  t.same(await readdir(dir), [], 'nothing written before a change')
  await post('/api/live/heartbeat', 'a')
  await app.close()
  t.equal((await stat(path)).mode & 0o777, 0o600)
  t.same(await readdir(dir), ['state.json'], 'no temporary file left behind')
  t.same(logs.lines, [])
})

t.test('a corrupt or unreadable file is a clean start with a warning, never a crash', async (t) => {
  const dir = await tempDir(t)
  const files: Array<[string, (path: string) => Promise<void>]> = [
    ['truncated JSON', (path) => writeFile(path, '{"version":1,"sinceMs":17672256')],
    ['an empty file', (path) => writeFile(path, '')],
    ['random bytes', (path) => writeFile(path, Buffer.from([0x00, 0xc3, 0x28, 0xff, 0x7b]))],
    ['another format', (path) => writeFile(path, '{"active":true,"since":"2026-01-01T00:00:00Z"}')],
    ['a directory', (path) => mkdir(path)]
  ]
  for (const [name, make] of files) {
    const path = join(dir, name.replaceAll(' ', '-'))
    await make(path)
    const logs = captureLogs('warn')
    const { app, post } = await run(t, path, START, logs)
    t.same(app.liveState.snapshot.state, OFFLINE, `${name}: offline`)
    t.match(logs.lines, [{ level: 40, msg: 'state file unusable, starting with no sessions', path, problem: /^cannot (read|parse)/ }], `${name}: one warning, with the reason`)
    t.equal((await post('/api/live/heartbeat', 'a')).statusCode, 200, `${name}: the service works`)
    await app.close()
  }
  t.same(parseSessions(await readFile(join(dir, 'truncated-JSON'), 'utf8'), START).sessions.length, 1, 'a corrupt file is replaced by the next save')
})

const UNUSABLE = 'state file unusable, starting with no sessions'

t.test('a parseable file with values the service could not have written is a clean start with one warning, never a crash', async (t) => {
  const dir = await tempDir(t)
  const session = (change: object) => ({ id: 'a', expiresAtMs: START + 30_000, status: 'working', statusSinceMs: START, activity: {}, ...change })
  const record = (change: object, sessions: object[] = [session({})]) => JSON.stringify({ version: 2, seq: 5, sinceMs: START, lastSeenMs: null, sessions, ...change })
  const files: Array<[string, string, string]> = [
    ['since -1e300', record({ sinceMs: -1e300 }), 'sinceMs is not a time within ten years of now'],
    ['since in 1970', record({ sinceMs: 0 }), 'sinceMs is not a time within ten years of now'],
    ['a seq of -1', record({ seq: -1 }), `seq is not a count up to ${Number.MAX_SAFE_INTEGER}`],
    ['a deadline of 1e300', record({}, [session({ expiresAtMs: 1e300 })]), 'sessions[0].expiresAtMs is not a time within ten years of now'],
    ['an id out of the alphabet', record({}, [session({}), session({ id: '<img src=x onerror=alert(1)>' })]), 'sessions[1].id is not a session id'],
    ['an id of 100 000 characters', record({}, [session({ id: 'x'.repeat(100_000) })]), 'sessions[0].id is not a session id'],
    ['a project with a terminal escape', record({}, [session({ activity: { project: 'blog\u001b]8;;http://x\u0007' } })]), 'sessions[0].activity.project is not a public name'],
    ['1 001 sessions', record({}, Array.from({ length: 1001 }, (_, i) => session({ id: `s${i}` }))), 'sessions has 1001 entries, more than 1000']
  ]
  for (const [name, text, reason] of files) {
    const path = join(dir, name.replaceAll(' ', '-'))
    await writeFile(path, text)
    const logs = captureLogs('warn')
    const { app, post } = await run(t, path, START, logs)
    t.same(app.liveState.snapshot.state, OFFLINE, `${name}: offline`)
    t.same(logs.lines.map(({ level, msg, problem }) => ({ level, msg, problem })), [{ level: 40, msg: UNUSABLE, problem: `cannot parse: ${reason}` }], `${name}: exactly one warning, with the reason`)
    t.notMatch(JSON.stringify(logs.lines), /onerror|xxxx/, `${name}: no value of the file in the log`)
    t.equal((await post('/api/live/heartbeat', 'a')).statusCode, 200, `${name}: the service works`)
    await app.close()
    t.same(parseSessions(await readFile(path, 'utf8'), START).sessions.map(({ id }) => id), ['a'], `${name}: replaced by the next save`)
  }
})

t.test('a FIFO, a socket, a link to either or a link loop at the path: a clean start with one warning, and saves leave it in place', async (t) => {
  const dir = await tempDir(t)
  const things: Array<[string, (path: string) => Promise<void>, string]> = [
    ['fifo', (path) => makeFifo(path), 'a FIFO'],
    ['socket', (path) => makeSocket(t, path), 'a socket'],
    ['link-to-fifo', (path) => symlink(join(dir, 'fifo'), path), 'a FIFO'],
    ['link-to-socket', (path) => symlink('socket', path), 'a socket'],
    ['link-loop', (path) => symlink(path, path), 'a symbolic link']
  ]
  for (const [name, make, kind] of things) {
    const path = join(dir, name)
    await make(path)
    const before = await lstat(path)
    const logs = captureLogs('warn')
    const { app, post } = await run(t, path, START, logs)
    t.match(logs.lines, [{ level: 40, msg: UNUSABLE, path, problem: `cannot read: not a regular file but ${kind}` }], `${name}: a warning saying what is there`)
    t.equal(logs.lines.length, 1, `${name}: one`)
    t.equal((await post('/api/live/heartbeat', 'a')).statusCode, 200, `${name}: the service works`)
    await app.close()
    t.match(logs.lines.slice(1), [{ level: 50, msg: 'cannot save the state file', err: { message: new RegExp(`is ${kind}, not a regular file: left as it is`) } }], `${name}: the save refused`)
    t.equal((await lstat(path)).ino, before.ino, `${name}: left in place`)
  }
  t.same((await readdir(dir)).sort(), ['fifo', 'link-loop', 'link-to-fifo', 'link-to-socket', 'socket'], 'no temporary file left behind')
})

t.test('a link to a device: a clean start with a warning, the device never read', async (t) => {
  const path = join(await tempDir(t), 'state.json')
  await symlink('/dev/zero', path)
  const logs = captureLogs('warn')
  const { app } = await run(t, path, START, logs)
  t.same(app.liveState.snapshot.state, OFFLINE)
  t.match(logs.lines, [{ level: 40, msg: UNUSABLE, path, resolvedPath: '/dev/zero', problem: 'cannot read: not a regular file but a character device' }])
})

t.test('a session id the heartbeat route accepts is one a state file may hold, and no other', async (t) => {
  const { app } = await run(t, join(await tempDir(t), 'state.json'), START)
  const candidates = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,130}$/), fc.string({ maxLength: 130 }), fc.string({ unit: 'grapheme', maxLength: 4 }))
  await fc.assert(fc.asyncProperty(candidates, async (id) => {
    const accepted = (await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: id } })).statusCode === 200
    // Each ended at once, so the session cap never refuses one.
    if (accepted) await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH, payload: { session_id: id } })
    const readable = (() => { try { return readSessionId(id, 'id') === id } catch { return false } })()
    return accepted === (readable && id !== DEFAULT_SESSION)
  }), { numRuns: 300 })
  t.equal((await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH })).statusCode, 200, 'no id: the default session')
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'aZ09._:-'.repeat(16) } })
  t.same((app.liveState as LiveState).toRecord().sessions.every(({ id }) => readSessionId(id, 'id') === id), true, 'and every id the store holds reads back')
})

t.test('a file that cannot be written is logged and the service keeps answering', async (t) => {
  const dir = await tempDir(t)
  const logs = captureLogs('warn')
  const { app, post } = await run(t, join(dir, 'no-such-dir', 'state.json'), START, logs)
  t.equal((await post('/api/live/heartbeat', 'a')).statusCode, 200)
  await app.close()
  t.match(logs.lines, [{ level: 50, msg: 'cannot save the state file', err: { code: 'ENOENT' } }])
})

t.test('the file holds session ids but the log of a restore does not', async (t) => {
  const path = join(await tempDir(t), 'state.json')
  const first = await run(t, path, START)
  await first.post('/api/live/heartbeat', 'secret-session-name')
  await first.app.close()
  t.match(await readFile(path, 'utf8'), /secret-session-name/)
  const logs = captureLogs('info')
  const second = await run(t, path, START + 1000, logs)
  t.match(logs.lines.find((line) => line.msg === 'sessions restored'), { path, state: { active: true, sessions: 1 } })
  t.notMatch(JSON.stringify(logs.lines), /secret-session-name/)
  await second.app.close()
})
