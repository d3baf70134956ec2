import { writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t from 'tap'
import { AUTH, TEST_KEY } from '../helpers/app.ts'
import { startServer, type ServerProcess } from '../helpers/server-process.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const STATUSES = ['working', 'waiting', 'idle', 'working', 'live']

/** Status changes from `loops` callers at once, each cycling its own session through the statuses, until `stop` aborts. */
async function burst (server: ServerProcess, stop: AbortSignal, loops = 4): Promise<number> {
  let answered = 0
  await Promise.all(Array.from({ length: loops }, async (_, loop) => {
    for (let i = 0; !stop.aborted; i++) {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/live/heartbeat`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: `s${loop}`, status: STATUSES[i % STATUSES.length], activity: { project: `p${i % 3}` } })
      }).catch(() => null) // the kill cuts the requests in flight
      if (res?.status === 200) answered++
      await res?.arrayBuffer()
    }
  }))
  return answered
}

/** What the database file holds, read the way any SQLite client would after a crash (the log replayed). */
function readDatabase (file: string) {
  const db = new DatabaseSync(file)
  try {
    const recordedUntil = (db.prepare("SELECT value FROM meta WHERE name = 'recorded_until_ms'").get() as { value: number }).value
    const days = db.prepare('SELECT date, active_ms AS active FROM days').all() as Array<{ date: string, active: number }>
    const stretches = db.prepare('SELECT start_ms AS start, end_ms AS end, working_ms + waiting_ms + idle_ms + live_ms AS total FROM stretches').all() as Array<{ start: number, end: number | null, total: number }>
    return { recordedUntil, days, stretches }
  } finally {
    db.close()
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('SIGKILL during a burst of changes: the database holds everything up to its last write, at most a second before the kill, consistent', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'history.db')
  const env = { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_HISTORY_FILE: file }
  const server = await startServer(t, env)
  const firstAt = Date.now()
  let killedAt = 0
  const kill = new AbortController()
  setTimeout(() => {
    killedAt = Date.now()
    server.child.kill('SIGKILL')
    kill.abort()
  }, 2500)
  const answered = await burst(server, kill.signal)
  await server.exited
  const { recordedUntil, days, stretches } = readDatabase(file)
  const lost = killedAt - recordedUntil
  t.comment(`${answered} changes answered in 2.5 s; the last write counted to ${lost} ms before the kill`)
  t.ok(answered > 20, 'a burst of changes reached the server')
  // A write is due every second; the rest is the timer's lateness on a busy machine.
  t.ok(lost >= 0 && lost < 1500, `lost ${lost} ms`)
  t.equal(stretches.length, 4, 'a stretch per session')
  const start = Math.min(...stretches.map((stretch) => stretch.start))
  t.ok(start >= firstAt - 5, 'starting with the burst')
  t.same(days.map((day) => day.active), [recordedUntil - start], 'the day holds exactly the time from the first start to the last write: some session was live throughout')
  for (const stretch of stretches) {
    t.same([stretch.end, stretch.total], [null, recordedUntil - stretch.start], 'each open stretch counted to the same moment, in the same transaction')
  }

  // No state file: the sessions are gone, so the next process ends their stretches where the count stands.
  const after = await startServer(t, env)
  const history = await (await fetch(`http://127.0.0.1:${after.port}/ws/live/history`)).json() as { today: { active: number } }
  t.equal(history.today.active, Math.round((recordedUntil - start) / 1000), 'nothing counted twice, nothing for the time it was down')
  const { sessions } = await (await fetch(`http://127.0.0.1:${after.port}/ws/live/sessions`)).json() as { sessions: Array<{ end: string }> }
  t.same(sessions.map((session) => session.end), Array(4).fill(new Date(recordedUntil).toISOString()))
})

t.test('reads while writing: the routes and another connection to the file read throughout a burst, never refused', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'history.db')
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_HISTORY_FILE: file })
  const done = AbortSignal.timeout(2500)
  const statuses = new Map<number, number>()
  const actives: number[] = []
  const externalReads: number[] = []
  await Promise.all([
    burst(server, done, 2),
    (async () => {
      for (let i = 0; !done.aborted; i++) {
        const url = ['/ws/live/history', '/ws/live/sessions?limit=100', '/ws/live/history.svg'][i % 3] as string
        const res = await fetch(`http://127.0.0.1:${server.port}${url}`)
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        const body = await res.text()
        if (url === '/ws/live/history') actives.push((JSON.parse(body) as { today: { active: number } }).today.active)
      }
    })(),
    (async () => {
      await sleep(1200) // the file is made at start; its first write lands a second later
      const reader = new DatabaseSync(file, { readOnly: true })
      try {
        while (!done.aborted) {
          externalReads.push((reader.prepare('SELECT coalesce(sum(active_ms), 0) AS active FROM days').get() as { active: number }).active)
          await sleep(20)
        }
      } finally {
        reader.close()
      }
    })()
  ])
  t.same([...statuses.keys()], [200], `every read answered 200 (${[...statuses.values()].reduce((a, b) => a + b)} reads)`)
  t.same(actives, actives.toSorted((a, b) => a - b), 'the time counted never goes back')
  t.ok(externalReads.length > 10, `${externalReads.length} reads from another connection, none refused`)
  t.same(externalReads, externalReads.toSorted((a, b) => a - b), 'each a consistent state, growing')
  server.child.kill('SIGTERM')
  t.equal((await server.exited).code, 0)
})

t.test('a damaged database file: the built server moves it aside, says so once, and records afresh', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'history.db')
  writeFileSync(file, Buffer.alloc(8192, 0xa5))
  const server = await startServer(t, { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_HISTORY_FILE: file })
  const warnings = server.output().split('\n').filter((line) => line.includes('"level":40'))
  t.equal(warnings.length, 1)
  t.match(JSON.parse(warnings[0] as string), { msg: 'history database unusable, moved aside and started afresh', path: file, problem: 'file is not a database' })
  t.match((await readdir(dir)).sort(), ['history.db', 'history.db-shm', 'history.db-wal', /^history\.db\.unusable-\d{8}T\d{6}Z$/])
  await fetch(`http://127.0.0.1:${server.port}/api/live/heartbeat`, { method: 'POST', headers: AUTH })
  const res = await fetch(`http://127.0.0.1:${server.port}/ws/live/history`)
  t.equal(res.status, 200)
})
