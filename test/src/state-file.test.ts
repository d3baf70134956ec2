import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import type { StoreRecord } from '../../src/live-state.js'
import { ACTIVITY_FIELDS, SESSION_STATUSES } from '../../src/public-state.js'
import { loadSessions, parseSessions, serializeSessions, StateFileWriter, writeAtomically } from '../../src/state-file.js'
import { tempDir } from '../helpers/temp-dir.js'

const T = 1_767_225_600_000
const RECORD: StoreRecord = {
  seq: 12,
  sinceMs: T,
  lastSeenMs: T - 3_600_000,
  sessions: [
    { id: 'laptop', expiresAtMs: T + 60_000, status: 'working', statusSinceMs: T + 5000, activity: { model: 'Opus 4.5', tool: 'editing' } },
    { id: '(default)', expiresAtMs: T + 50_000, status: 'live', statusSinceMs: T, activity: {} }
  ]
}
const EMPTY: StoreRecord = { seq: 0, sinceMs: null, lastSeenMs: null, sessions: [] }

t.test('a record survives serialization unchanged', async (t) => {
  t.same(parseSessions(serializeSessions(RECORD)), RECORD)
  t.same(parseSessions(serializeSessions(EMPTY)), EMPTY)
})

const time = fc.integer({ min: 0, max: 4e12 })
const storeRecord = fc.record({
  seq: fc.nat(),
  sinceMs: fc.option(time),
  lastSeenMs: fc.option(time),
  sessions: fc.array(fc.record({
    id: fc.string({ minLength: 1, maxLength: 128 }),
    expiresAtMs: time,
    status: fc.constantFrom(...SESSION_STATUSES),
    statusSinceMs: time,
    activity: fc.record(Object.fromEntries(ACTIVITY_FIELDS.map((field) => [field, fc.string({ minLength: 1, maxLength: 48 })])), { requiredKeys: [] })
  }))
}).filter(({ sinceMs, sessions }) => sinceMs !== null || sessions.length === 0)

t.test('any record round-trips', async (t) => {
  fc.assert(fc.property(storeRecord, (value) => {
    t.same(parseSessions(serializeSessions(value)), value)
  }))
})

t.test('a version 1 file (before statuses) is read as sessions that report no status', async (t) => {
  const text = JSON.stringify({ version: 1, sinceMs: T, expiries: [['laptop', T + 60_000]] })
  t.same(parseSessions(text), {
    seq: 0,
    sinceMs: T,
    lastSeenMs: null,
    sessions: [{ id: 'laptop', expiresAtMs: T + 60_000, status: 'live', statusSinceMs: T, activity: {} }]
  })
})

t.test('anything but a well-formed record is refused with a reason', async (t) => {
  const good = { version: 2, seq: 1, sinceMs: T, lastSeenMs: null, sessions: [] }
  const session = { id: 'a', expiresAtMs: T, status: 'idle', statusSinceMs: T, activity: {} }
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /JSON/],
    ['truncated', serializeSessions(RECORD).slice(0, 30), /JSON/],
    ['not JSON', 'hello', /JSON/],
    ['an array', '[]', /not a state file/],
    ['another version', JSON.stringify({ ...good, version: 3 }), /not a version 1 or 2 state file/],
    ['a negative seq', JSON.stringify({ ...good, seq: -1 }), /seq/],
    ['since a string', JSON.stringify({ ...good, sinceMs: 'yesterday' }), /sinceMs/],
    ['lastSeen not finite', JSON.stringify({ ...good, lastSeenMs: 'never' }), /lastSeenMs/],
    ['sessions an object', JSON.stringify({ ...good, sessions: { a: 1 } }), /sessions/],
    ['an unknown status', JSON.stringify({ ...good, sessions: [{ ...session, status: 'asleep' }] }), /sessions/],
    ['an unknown activity field', JSON.stringify({ ...good, sessions: [{ ...session, activity: { branch: 'main' } }] }), /sessions/],
    ['an empty session id', JSON.stringify({ ...good, sessions: [{ ...session, id: '' }] }), /sessions/],
    ['sessions without a start', JSON.stringify({ ...good, sinceMs: null, sessions: [session] }), /start time/],
    ['version 1, since a string', '{"version":1,"sinceMs":"yesterday","expiries":[]}', /sinceMs/],
    ['version 1, an expiry without a time', '{"version":1,"sinceMs":1,"expiries":[["a"]]}', /expiries/],
    ['version 1, a time that is not finite', '{"version":1,"sinceMs":1,"expiries":[["a",1e999]]}', /expiries/],
    ['version 1, sessions without a start', '{"version":1,"sinceMs":null,"expiries":[["a",2]]}', /start time/]
  ]
  for (const [name, text, reason] of cases) t.throws(() => parseSessions(text), { message: reason }, name)
})

t.test('random text and random JSON either parse to a valid record or throw an Error', async (t) => {
  const text = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((value) => JSON.stringify({ version: 2, ...(typeof value === 'object' ? value : { sessions: value }) })),
    storeRecord.chain((record) => fc.jsonValue().map((noise) => JSON.stringify({ version: 2, ...record, sessions: [...record.sessions, noise] })))
  )
  fc.assert(fc.property(text, (input) => {
    let record: StoreRecord
    try {
      record = parseSessions(input)
    } catch (error) {
      return error instanceof Error
    }
    return Number.isSafeInteger(record.seq) && record.sessions.every(({ id, expiresAtMs, status }) =>
      typeof id === 'string' && Number.isFinite(expiresAtMs) && SESSION_STATUSES.includes(status))
  }), { numRuns: 2000 })
  t.pass('2000 inputs, no crash and no invalid record')
})

t.test('loading: a missing file is a clean start without complaint', async (t) => {
  const dir = await tempDir(t)
  t.same(await loadSessions(join(dir, 'state.json')), { record: null })
})

t.test('loading: a corrupt or unreadable file is a clean start with the reason', async (t) => {
  const dir = await tempDir(t)
  const corrupt = join(dir, 'corrupt.json')
  await writeFile(corrupt, '{"version":1,"sinceMs":')
  t.match(await loadSessions(corrupt), { record: null, problem: /^cannot parse: .*JSON/ })
  const binary = join(dir, 'binary.json')
  await writeFile(binary, Buffer.from([0xff, 0xfe, 0x00, 0x01]))
  t.match(await loadSessions(binary), { record: null, problem: /^cannot parse/ })
  const directory = join(dir, 'a-directory')
  await mkdir(directory)
  t.match(await loadSessions(directory), { record: null, problem: /^cannot read: .*EISDIR/ })
})

t.test('loading a good file gives its record', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFile(path, serializeSessions(RECORD))
  t.same(await loadSessions(path), { record: RECORD })
})

t.test('an atomic write replaces the file, leaves no temporary file and is private to its owner', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFile(path, 'old contents')
  await chmod(path, 0o644)
  await writeAtomically(path, 'new contents')
  t.equal(await readFile(path, 'utf8'), 'new contents')
  t.equal((await stat(path)).mode & 0o777, 0o600)
  t.same(await readdir(dir), ['state.json'])
})

t.test('a failed write leaves the old file intact and no temporary file', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await mkdir(path)
  await t.rejects(writeAtomically(path, 'contents'), { code: 'EISDIR' }, 'cannot rename a file over a directory')
  t.same(await readdir(dir), ['state.json'])
  await t.rejects(writeAtomically(join(dir, 'missing', 'state.json'), 'contents'), { code: 'ENOENT' })
})

t.test('the writer folds a burst of saves into few writes, and the last state wins', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  let version = 0
  let reads = 0
  const writer = new StateFileWriter({
    path,
    contents: () => { reads++; return String(version) },
    onError: (error) => { throw error }
  })
  for (version = 1; version <= 100; version++) writer.save()
  version = 100
  await writer.flush()
  t.equal(await readFile(path, 'utf8'), '100')
  t.equal(reads, 2, 'one write started at once, one more for everything that came during it')
  writer.save()
  await writer.flush()
  t.equal(reads, 3)
  await writer.flush()
  t.equal(reads, 3, 'flush with nothing pending writes nothing')
})

t.test('a failed write is reported, and the next save tries again', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'later', 'state.json')
  const errors: unknown[] = []
  const writer = new StateFileWriter({ path, contents: () => 'state', onError: (error) => errors.push(error) })
  writer.save()
  await writer.flush()
  t.match(errors, [{ code: 'ENOENT' }])
  await mkdir(join(dir, 'later'))
  writer.save()
  await writer.flush()
  t.equal(await readFile(path, 'utf8'), 'state')
  t.equal(errors.length, 1)
})
