import { once } from 'node:events'
import { watch } from 'node:fs'
import { lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import WebSocket from 'ws'
import type { PublicState } from '../../src/live/public-state.ts'
import { AUTH, TEST_KEY } from '../helpers/app.ts'
import { startServer, type ServerProcess } from '../helpers/server-process.ts'
import { makeFifo } from '../helpers/special-files.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { OFFLINE } from '../helpers/states.ts'

async function heartbeat (port: number, sessionId: string): Promise<PublicState> {
  const res = await fetch(`http://127.0.0.1:${port}/api/live/heartbeat`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: sessionId })
  })
  return await res.json() as PublicState
}

async function firstMessage (port: number): Promise<PublicState> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/live`)
  const [data] = await once(socket, 'message') as [Buffer]
  socket.close()
  return JSON.parse(data.toString()) as PublicState
}

/** The process's log lines at warn level or above, parsed. */
function warnings (server: ServerProcess): Array<Record<string, unknown>> {
  return server.output().split('\n').filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => (line.level as number) >= 40)
}

const UNUSABLE = 'state file unusable, starting with no sessions'

/** These tests look at the state file's directory: the history, which would keep its database there, is off. */
const STATE_FILE_ALONE = { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_HISTORY: 'off' }

/** Resolves once the file holds a session with this id: the save that follows a heartbeat has landed. */
async function savedWith (dir: string, path: string, sessionId: string): Promise<void> {
  // Only a regular file is read: before the first save the path may be a FIFO, which a read would wait on.
  const holds = async () => (await stat(path).catch(() => null))?.isFile() === true &&
    (await readFile(path, 'utf8').catch(() => '')).includes(`"${sessionId}"`)
  // Watching starts before the first look, so a save that lands in between is not missed.
  const watcher = watch(dir)
  try {
    await new Promise<void>((resolve, reject) => {
      const look = () => { holds().then((yes) => { if (yes) resolve() }, reject) }
      watcher.on('change', look)
      look()
    })
  } finally {
    watcher.close()
  }
}

t.test('a deploy (SIGTERM, new process) during a session: the new process starts live, with the same since', async (t) => {
  const dir = await tempDir(t)
  const env = { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: join(dir, 'state.json') }
  const before = await startServer(t, env)
  const live = await heartbeat(before.port, 'laptop')
  before.child.kill('SIGTERM')
  t.equal((await before.exited).code, 0)

  const after = await startServer(t, env)
  t.same(await firstMessage(after.port), live, 'the first thing a viewer hears is still live')
  t.match(after.output(), /sessions restored/)
})

t.test('a crash (SIGKILL) after a heartbeat was saved loses nothing', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  const env = { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path }
  const before = await startServer(t, env)
  const saved = savedWith(dir, path, 'crash-test')
  const live = await heartbeat(before.port, 'crash-test')
  await saved
  before.child.kill('SIGKILL')
  await before.exited

  const after = await startServer(t, env)
  t.same(await firstMessage(after.port), live)
})

t.test('a corrupt file on start: the process starts offline with a warning', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFile(path, '{"version":1,"sinceMs":')
  const server = await startServer(t, { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path })
  t.same(await firstMessage(server.port), OFFLINE)
  t.match(server.output(), /state file unusable, starting with no sessions/)
})

t.test('a parseable but hostile file (since -1e300) on start: the process starts offline with one warning, no crash loop', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFile(path, `{"version":1,"sinceMs":-1e300,"expiries":[["laptop",${Date.now() + 30_000}]]}`)
  const server = await startServer(t, { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path })
  t.same(await firstMessage(server.port), OFFLINE)
  t.match(warnings(server), [{ level: 40, msg: UNUSABLE, path, problem: /^cannot parse: sinceMs is not a time/ }], 'exactly one warning, with the reason')
  t.equal(warnings(server).length, 1)
})

t.test('a 36 MB file of 250 000 sessions under a 64 MB heap: refused unread, the process starts offline', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  const deadline = Date.now() + 60_000
  const entries = Array.from({ length: 250_000 }, (_, index) => `["${String(index).padStart(125, 's')}",${deadline}]`)
  const text = `{"version":1,"sinceMs":${Date.now()},"expiries":[${entries.join(',')}]}`
  t.ok(text.length > 36e6, `${(text.length / 1e6).toFixed(1)} MB`)
  await writeFile(path, text)
  const server = await startServer(t, { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path, NODE_OPTIONS: '--max-old-space-size=64' })
  t.same(await firstMessage(server.port), OFFLINE)
  t.match(warnings(server), [{ level: 40, msg: UNUSABLE, path, problem: /^cannot read: \d+ bytes or more, over the 1048576 a state file may hold/ }])
  t.equal(warnings(server).length, 1)
})

t.test('the costliest JSON within the size bound (1 MiB of lists nested half a million deep) under a 64 MB heap: the process starts', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFile(path, '['.repeat(512 * 1024) + ']'.repeat(512 * 1024))
  const server = await startServer(t, { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path, NODE_OPTIONS: '--max-old-space-size=64' })
  t.same(await firstMessage(server.port), OFFLINE)
  t.match(warnings(server), [{ level: 40, msg: UNUSABLE, path, problem: 'cannot parse: the file is not an object' }])
})

t.test('a FIFO at the state path: the process starts offline with a warning, never writes through it, and exits cleanly', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await makeFifo(path)
  const server = await startServer(t, { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path })
  t.same(await firstMessage(server.port), OFFLINE)
  t.match(warnings(server), [{ level: 40, msg: UNUSABLE, path, problem: 'cannot read: not a regular file but a FIFO' }])
  t.equal((await heartbeat(server.port, 'beside-a-fifo')).sessions, 1, 'the service works')
  server.child.kill('SIGTERM')
  t.equal((await server.exited).code, 0, 'the exit does not hang either')
  t.match(warnings(server).slice(1), [{ level: 50, msg: 'cannot save the state file', err: { message: /is a FIFO, not a regular file: left as it is, nothing saved/ } }])
  t.ok((await stat(path)).isFIFO(), 'someone else\'s FIFO is left in place')
  t.same(await readdir(dir), ['state.json'], 'no temporary file left behind')
})

t.test('a symbolic link to a file on a volume: the first save makes the file there, keeping the link, and a restart reads through it', async (t) => {
  const dir = await tempDir(t)
  const volume = join(dir, 'volume')
  await mkdir(volume)
  const path = join(dir, 'state.json')
  await symlink(join(volume, 'state.json'), path)
  const env = { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path }
  const before = await startServer(t, env)
  const live = await heartbeat(before.port, 'on-a-volume')
  before.child.kill('SIGTERM')
  t.equal((await before.exited).code, 0, 'a graceful exit: every save has landed')
  t.ok((await lstat(path)).isSymbolicLink(), 'the link is still a link')
  t.match(await readFile(join(volume, 'state.json'), 'utf8'), /"on-a-volume"/, 'the save went to the file it points to')
  t.same(await readdir(dir), ['state.json', 'volume'], 'nothing written beside the link')

  const after = await startServer(t, env)
  t.same(await firstMessage(after.port), live, 'read back through the link')
})

t.test('temporary files left by interrupted saves are removed on start; look-alikes and a save in flight are not', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  const ours = ['.state.json.0123456789ab.tmp', '.state.json.deadbeef0042.tmp', '.state.json.ffffffffffff.tmp']
  const lookAlikes = [
    '.state.json.0123456789ab.tmp.bak', '.state.json.0123456789AB.tmp', '.state.json.0123456789a.tmp',
    '.state.json.0123456789abc.tmp', '.state.json.g123456789ab.tmp', 'state.json.0123456789ab.tmp',
    '.other.json.0123456789ab.tmp', '.state.json.0123456789ab.temp', '.state.json..tmp', 'state.json.bak'
  ]
  const anHourAgo = new Date(Date.now() - 3_600_000)
  for (const name of [...ours, ...lookAlikes]) {
    await writeFile(join(dir, name), '{"version":1,"sinceMs":null,"expiries":[]}')
    await utimes(join(dir, name), anHourAgo, anHourAgo)
  }
  const inFlight = '.state.json.cccccccccccc.tmp'
  await writeFile(join(dir, inFlight), 'a save by the process being replaced, still being written')
  const aDirectory = '.state.json.aaaaaaaaaaaa.tmp'
  await mkdir(join(dir, aDirectory))
  await writeFile(join(dir, aDirectory, 'inside'), 'kept')
  const aLink = '.state.json.bbbbbbbbbbbb.tmp'
  await symlink(join(dir, 'state.json.bak'), join(dir, aLink))
  await mkdir(join(dir, 'elsewhere'))
  await writeFile(join(dir, 'elsewhere', ours[0]!), 'another directory')
  for (const name of [aDirectory, aLink, 'elsewhere']) await utimes(join(dir, name), anHourAgo, anHourAgo).catch(() => {})

  const server = await startServer(t, { ...STATE_FILE_ALONE, CC_LIVE_STATE_FILE: path })
  t.same(await firstMessage(server.port), OFFLINE)
  t.same((await readdir(dir)).sort(), [...lookAlikes, inFlight, aDirectory, aLink, 'elsewhere'].sort(), 'only the three stale files of our naming are gone')
  t.same(await readdir(join(dir, aDirectory)), ['inside'])
  t.same(await readdir(join(dir, 'elsewhere')), [ours[0]])
  t.match(server.output(), /"removed":3,"msg":"removed temporary files of interrupted saves"/)
  t.same(warnings(server), [])
})
