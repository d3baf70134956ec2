import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { SqliteHistoryStore } from '../../src/history/sqlite-store.ts'
import { AUTH, TEST_ENV, buildTestApp } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { HOUR, MINUTE, hoursByDay, settled } from '../helpers/history.ts'
import { captureLogs } from '../helpers/logs.ts'
import { makeFifo } from '../helpers/special-files.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const START = '2026-07-01T09:00:00Z'

/** One run of the app on a fake clock from `start`, with `env`; closed by the test or at its end. */
async function start (t: Test, env: Record<string, string>, at = START) {
  const logs = captureLogs('info')
  const clock = new FakeClock(Date.parse(at))
  const app = await buildTestApp(t, { clock, env: { CC_LIVE_TTL_SECONDS: '86400', ...env, ...logs.env }, logger: logs.logger })
  const beat = (status: string) => app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a', status } })
  const pass = async (ms: number) => {
    for (let left = ms; left > 0; left -= MINUTE) {
      clock.advance(Math.min(MINUTE, left))
      await settled()
    }
  }
  return { app, clock, logs: logs.lines, beat, pass }
}

async function storedDays (file: string) {
  const store = new SqliteHistoryStore(file)
  try {
    return await hoursByDay(store, '2026-07-01', '2026-07-01')
  } finally {
    await store.close()
  }
}

t.test('the history file is beside the state file unless CC_LIVE_HISTORY_FILE says where; without either, in memory', async (t) => {
  const dir = await tempDir(t)
  const beside = await start(t, { CC_LIVE_STATE_FILE: join(dir, 'state.json') })
  t.match(beside.logs.find((line) => line.msg === 'history recorded'), { path: join(dir, 'history.db'), timeZone: 'UTC', retentionDays: 400 })
  t.ok(existsSync(join(dir, 'history.db')))

  const named = await start(t, { CC_LIVE_STATE_FILE: join(dir, 'state.json'), CC_LIVE_HISTORY_FILE: join(dir, 'elsewhere.sqlite') })
  t.match(named.logs.find((line) => line.msg === 'history recorded'), { path: join(dir, 'elsewhere.sqlite') })

  const memory = await start(t, {})
  t.match(memory.logs.find((line) => line.msg === 'history recorded'), { path: ':memory:' })
})

t.test('closing writes what was counted; the next run goes on from it through the state file, counting nothing twice', async (t) => {
  const dir = await tempDir(t)
  const env = { CC_LIVE_STATE_FILE: join(dir, 'state.json') }
  const first = await start(t, env)
  await first.beat('working')
  await first.pass(HOUR + 500)
  await first.app.close()
  t.same(await storedDays(join(dir, 'history.db')), { '2026-07-01': [1 + 0.5 / 3600, 1 + 0.5 / 3600, 0] }, 'written on close, to the moment')

  const second = await start(t, env, '2026-07-01T10:00:30Z')
  t.equal(second.app.liveState.snapshot.state.status, 'working', 'the state file brought the session back')
  await second.pass(29.5 * MINUTE)
  await second.app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH })
  const sessions = (await second.app.inject({ url: '/ws/live/sessions' })).json().sessions
  t.same(sessions, [{ start: '2026-07-01T09:00:00.000Z', end: '2026-07-01T10:30:00.000Z', seconds: { working: 5400, waiting: 0, idle: 0, live: 0 }, activity: {} }],
    'one session of an hour and a half, across the restart')
  await second.app.close()
  t.same(await storedDays(join(dir, 'history.db')), { '2026-07-01': [1.5, 1.5, 0] })
})

t.test('a damaged history file is moved aside with a warning and a fresh one started', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'history.db')
  writeFileSync(file, 'SQLite format 3\0' + 'x'.repeat(5000))
  writeFileSync(`${file}-wal`, 'not a log')
  const run = await start(t, { CC_LIVE_HISTORY_FILE: file })
  const warning = run.logs.find((line) => line.msg === 'history database unusable, moved aside and started afresh')
  t.match(warning, { level: 40, path: file, problem: /./, movedTo: join(dir, 'history.db.unusable-20260701T090000Z') })
  // SQLite itself dropped the log it could not read when it closed the damaged database.
  t.same(readdirSync(dir).sort(), ['history.db', 'history.db-shm', 'history.db-wal', 'history.db.unusable-20260701T090000Z'])
  await run.beat('working')
  await run.pass(MINUTE)
  t.equal((await run.app.inject({ url: '/ws/live/history' })).json().today.active, 60, 'recording into the fresh one')
})

t.test('a file of another program, or of a newer cc-live, is not touched but moved aside', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'history.db')
  const { DatabaseSync } = await import('node:sqlite')
  const other = new DatabaseSync(file)
  other.exec('CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (\'keep me\')')
  other.close()
  const run = await start(t, { CC_LIVE_HISTORY_FILE: file })
  t.match(run.logs.find((line) => line.msg?.startsWith('history database unusable')), { problem: 'not a cc-live history database' })
  const moved = readdirSync(dir).find((name) => name.startsWith('history.db.unusable-') && !name.includes('-wal') && !name.includes('-shm')) as string
  const kept = new DatabaseSync(join(dir, moved))
  t.same(kept.prepare('SELECT text FROM notes').all(), [{ text: 'keep me' }], 'its data intact')
  kept.close()
})

t.test('a FIFO or a directory at the path: left alone, the history kept in memory, start-up goes on', async (t) => {
  const dir = await tempDir(t)
  await makeFifo(join(dir, 'fifo'))
  await mkdir(join(dir, 'directory'))
  for (const [name, kind] of [['fifo', 'a FIFO'], ['directory', 'a directory']]) {
    const run = await start(t, { CC_LIVE_HISTORY_FILE: join(dir, name as string) })
    t.match(run.logs.find((line) => line.msg === 'history database unusable'), { problem: `not a regular file but ${kind}: left as it is, history kept in memory` })
    t.match(run.logs.find((line) => line.msg === 'history recorded'), { path: ':memory:' })
    await run.beat('idle')
    t.equal((await run.app.inject({ url: '/ws/live/history' })).statusCode, 200)
  }
})

t.test('a history file in a directory that cannot be made: in memory, start-up goes on', async (t) => {
  const run = await start(t, { CC_LIVE_HISTORY_FILE: '/nonexistent/dir/history.db' })
  t.match(run.logs.find((line) => line.msg?.startsWith('history database unusable')), { problem: /history kept in memory$/ })
  t.equal((await run.app.inject({ url: '/ws/live/history' })).statusCode, 200)
})

t.test('the history settings are checked at start-up, each named', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ CC_LIVE_TIMEZONE: 'Mars/Olympus_Mons' }, /^CC_LIVE_TIMEZONE: "Mars\/Olympus_Mons" is not a time zone: use an IANA name such as Europe\/Berlin, or UTC$/],
    [{ CC_LIVE_TIMEZONE: '' }, /^CC_LIVE_TIMEZONE: "" is not a time zone/],
    [{ CC_LIVE_HISTORY: 'no' }, /^CC_LIVE_HISTORY: must be equal to one of the allowed values$/],
    [{ CC_LIVE_HISTORY_DAYS: '0' }, /^CC_LIVE_HISTORY_DAYS: must be >= 1$/],
    [{ CC_LIVE_HISTORY_DAYS: '3661' }, /^CC_LIVE_HISTORY_DAYS: must be <= 3660$/]
  ]
  for (const [env, message] of cases) {
    const app = buildApp({ env: { ...TEST_ENV, ...env } })
    await t.rejects(async () => { await app.ready() }, { name: 'ConfigError', message }, JSON.stringify(env))
    await app.close()
  }
  const app = await buildTestApp(t, { env: { CC_LIVE_TIMEZONE: 'europe/berlin' } })
  t.equal(app.config.timeZone, 'Europe/Berlin', 'a zone is named as Temporal spells it')
  t.equal(app.history?.timezone, 'Europe/Berlin')
})

t.test('CC_LIVE_HISTORY=off: no file is made', async (t) => {
  const dir = await tempDir(t)
  const run = await start(t, { CC_LIVE_STATE_FILE: join(dir, 'state.json'), CC_LIVE_HISTORY: 'off' })
  await run.beat('working')
  await run.pass(MINUTE)
  await run.app.close()
  t.same(readdirSync(dir), ['state.json'])
})
