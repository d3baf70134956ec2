import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import type { SessionRecord } from '../../src/live-state.js'
import { loadSessions, parseSessions, serializeSessions, StateFileWriter, writeAtomically } from '../../src/state-file.js'
import { tempDir } from '../helpers/temp-dir.js'

const RECORD: SessionRecord = { sinceMs: 1_767_225_600_000, expiries: [['laptop', 1_767_225_660_000], ['(default)', 1_767_225_650_000]] }

t.test('a record survives serialization unchanged', async (t) => {
  t.same(parseSessions(serializeSessions(RECORD)), RECORD)
  t.same(parseSessions(serializeSessions({ sinceMs: null, expiries: [] })), { sinceMs: null, expiries: [] })
})

t.test('any record round-trips', async (t) => {
  const record = fc.record({
    sinceMs: fc.option(fc.integer({ min: 0, max: 4e12 })),
    expiries: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 128 }), fc.integer({ min: 0, max: 4e12 })))
  }).filter(({ sinceMs, expiries }) => sinceMs !== null || expiries.length === 0)
  fc.assert(fc.property(record, (value) => {
    t.same(parseSessions(serializeSessions(value)), value)
  }))
})

t.test('anything but a well-formed record is refused with a reason', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /JSON/],
    ['truncated', serializeSessions(RECORD).slice(0, 30), /JSON/],
    ['not JSON', 'hello', /JSON/],
    ['an array', '[]', /not a version 1 state file/],
    ['another version', '{"version":2,"sinceMs":null,"expiries":[]}', /not a version 1 state file/],
    ['since a string', '{"version":1,"sinceMs":"yesterday","expiries":[]}', /sinceMs/],
    ['expiries an object', '{"version":1,"sinceMs":1,"expiries":{"a":2}}', /expiries/],
    ['an expiry without a time', '{"version":1,"sinceMs":1,"expiries":[["a"]]}', /expiries/],
    ['an empty session id', '{"version":1,"sinceMs":1,"expiries":[["",2]]}', /expiries/],
    ['a time that is not finite', '{"version":1,"sinceMs":1,"expiries":[["a",1e999]]}', /expiries/],
    ['sessions without a start', '{"version":1,"sinceMs":null,"expiries":[["a",2]]}', /start time/]
  ]
  for (const [name, text, reason] of cases) t.throws(() => parseSessions(text), { message: reason }, name)
})

t.test('random text and random JSON either parse to a valid record or throw an Error', async (t) => {
  const text = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify({ version: 1, ...(typeof value === 'object' ? value : { sinceMs: value }) })))
  fc.assert(fc.property(text, (input) => {
    let record: SessionRecord
    try {
      record = parseSessions(input)
    } catch (error) {
      return error instanceof Error
    }
    return (record.sinceMs === null || Number.isFinite(record.sinceMs)) &&
      record.expiries.every(([id, at]) => typeof id === 'string' && Number.isFinite(at))
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
