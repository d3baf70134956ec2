import { once } from 'node:events'
import { watch } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import WebSocket from 'ws'
import type { PublicState } from '../../src/public-state.js'
import { AUTH, TEST_KEY } from '../helpers/app.js'
import { startServer } from '../helpers/server-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { OFFLINE } from '../helpers/states.js'

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

/** Resolves once the file holds a session with this id: the save that follows a heartbeat has landed. */
async function savedWith (dir: string, path: string, sessionId: string): Promise<void> {
  const holds = async () => (await readFile(path, 'utf8').catch(() => '')).includes(`"${sessionId}"`)
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
  const env = { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_STATE_FILE: join(dir, 'state.json') }
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
  const env = { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_STATE_FILE: path }
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
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_STATE_FILE: path })
  t.same(await firstMessage(server.port), OFFLINE)
  t.match(server.output(), /state file unusable, starting with no sessions/)
})
