import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { DEFAULT_SESSION, LiveState, type SessionRecord } from '../../src/live-state.js'
import { MAX_TIME_DISTANCE_MS } from '../../src/state-file-readers.js'
import {
  loadSessions, MAX_SAVED_SESSIONS, MAX_STATE_FILE_BYTES, parseSessions, removeStaleTemporaryFiles, resolveStateFile,
  serializeSessions, STALE_TEMPORARY_AGE_MS, StateFileWriter, temporaryPath, writeAtomically
} from '../../src/state-file.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { makeFifo, makeSocket } from '../helpers/special-files.js'
import { tempDir } from '../helpers/temp-dir.js'

const NOW = Date.parse('2026-01-01T00:00:00.000Z')
const RECORD: SessionRecord = { sinceMs: NOW, expiries: [['laptop', NOW + 60_000], [DEFAULT_SESSION, NOW + 50_000]] }
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Restores a record into a fresh store whose clock reads nowMs; throws whatever restoring throws. */
function restore (record: SessionRecord, nowMs = NOW) {
  const store = new LiveState({ ttlMs: 60_000, clock: new FakeClock(nowMs) })
  try {
    return store.restore(record).state
  } finally {
    store.close()
  }
}

/** A record's values are within what the service writes: every id in the alphabet, every time near now. */
function withinRange ({ sinceMs, expiries }: SessionRecord, nowMs = NOW): boolean {
  const near = (time: number) => Math.abs(time - nowMs) <= MAX_TIME_DISTANCE_MS
  return (sinceMs === null || near(sinceMs)) && expiries.length <= MAX_SAVED_SESSIONS &&
    expiries.every(([id, at]) => (id === DEFAULT_SESSION || SESSION_ID.test(id)) && near(at))
}

const sessionIds = fc.oneof(fc.stringMatching(SESSION_ID), fc.constant(DEFAULT_SESSION))
const times = fc.integer({ min: NOW - MAX_TIME_DISTANCE_MS, max: NOW + MAX_TIME_DISTANCE_MS })

t.test('a record survives serialization unchanged', async (t) => {
  t.same(parseSessions(serializeSessions(RECORD), NOW), RECORD)
  t.same(parseSessions(serializeSessions({ sinceMs: null, expiries: [] }), NOW), { sinceMs: null, expiries: [] })
})

t.test('any record round-trips', async (t) => {
  const record = fc.record({
    sinceMs: fc.option(times),
    expiries: fc.array(fc.tuple(sessionIds, times))
  }).filter(({ sinceMs, expiries }) => sinceMs !== null || expiries.length === 0)
  fc.assert(fc.property(record, (value) => {
    t.same(parseSessions(serializeSessions(value), NOW), value)
  }))
})

t.test('anything but a well-formed record is refused with a reason', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /JSON/],
    ['truncated', serializeSessions(RECORD).slice(0, 30), /JSON/],
    ['not JSON', 'hello', /JSON/],
    ['an array', '[]', /not a version 1 state file/],
    ['another version', '{"version":2,"sinceMs":null,"expiries":[]}', /not a version 1 state file/],
    ['since a string', '{"version":1,"sinceMs":"yesterday","expiries":[]}', /^sinceMs is not a time/],
    ['expiries an object', `{"version":1,"sinceMs":${NOW},"expiries":{"a":2}}`, /^expiries is not a list$/],
    ['an expiry without a time', `{"version":1,"sinceMs":${NOW},"expiries":[["a"]]}`, /^expiries\[0\] is not a list of 2$/],
    ['an empty session id', `{"version":1,"sinceMs":${NOW},"expiries":[["",${NOW}]]}`, /^expiries\[0\]\[0\] is not a session id$/],
    ['a time that is not finite', `{"version":1,"sinceMs":${NOW},"expiries":[["a",1e999]]}`, /^expiries\[0\]\[1\] is not a time/],
    ['sessions without a start', `{"version":1,"sinceMs":null,"expiries":[["a",${NOW}]]}`, /start time/]
  ]
  for (const [name, text, reason] of cases) t.throws(() => parseSessions(text, NOW), { message: reason }, name)
})

t.test('a parseable record with a value the service could not have written is refused, saying where', async (t) => {
  const record = (since: string, expiries: string) => `{"version":1,"sinceMs":${since},"expiries":${expiries}}`
  const cases: Array<[string, string, string]> = [
    ['since before any Date', record('-1e300', `[["a",${NOW}]]`), 'sinceMs is not a time within ten years of now'],
    ['since after any Date', record('1e300', '[]'), 'sinceMs is not a time within ten years of now'],
    ['since in 1970', record('0', `[["a",${NOW}]]`), 'sinceMs is not a time within ten years of now'],
    ['since at the last Date', record('8.64e15', '[]'), 'sinceMs is not a time within ten years of now'],
    ['a deadline past any Date', record(String(NOW), `[["a",${NOW}],["b",1e300]]`), 'expiries[1][1] is not a time within ten years of now'],
    ['a negative deadline', record(String(NOW), '[["a",-1]]'), 'expiries[0][1] is not a time within ten years of now'],
    ['an id of 129 characters', record(String(NOW), `[["${'a'.repeat(129)}",${NOW}]]`), 'expiries[0][0] is not a session id'],
    ['an id of 1 MB', record(String(NOW), `[["${'a'.repeat(1e6)}",${NOW}]]`), 'expiries[0][0] is not a session id'],
    ['an id with markup', record(String(NOW), `[["<script>",${NOW}]]`), 'expiries[0][0] is not a session id'],
    ['an id with a space', record(String(NOW), `[["a b",${NOW}]]`), 'expiries[0][0] is not a session id'],
    ['an id that is a number', record(String(NOW), `[[42,${NOW}]]`), 'expiries[0][0] is not a session id'],
    ['an id that looks like the default', record(String(NOW), `[["(default) ",${NOW}]]`), 'expiries[0][0] is not a session id'],
    [`${MAX_SAVED_SESSIONS + 1} sessions`, record(String(NOW), JSON.stringify(Array.from({ length: MAX_SAVED_SESSIONS + 1 }, (_, i) => [`s${i}`, NOW]))),
      `expiries has ${MAX_SAVED_SESSIONS + 1} entries, more than ${MAX_SAVED_SESSIONS}`]
  ]
  for (const [name, text, reason] of cases) t.throws(() => parseSessions(text, NOW), { message: reason }, name)
  const most = Array.from({ length: MAX_SAVED_SESSIONS }, (_, i) => [`s${i}`, NOW] as const)
  t.equal(parseSessions(record(String(NOW), JSON.stringify(most)), NOW).expiries.length, MAX_SAVED_SESSIONS, `${MAX_SAVED_SESSIONS} sessions are fine`)
})

t.test('random text and random JSON either parse to a record that restores, or throw an Error', async (t) => {
  const text = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((value) => JSON.stringify({ version: 1, ...(typeof value === 'object' ? value : { sinceMs: value }) })),
    fc.record({ version: fc.constant(1), sinceMs: fc.jsonValue(), expiries: fc.array(fc.tuple(fc.jsonValue(), fc.jsonValue())) }).map((value) => JSON.stringify(value))
  )
  let accepted = 0
  fc.assert(fc.property(text, (input) => {
    let record: SessionRecord
    try {
      record = parseSessions(input, NOW)
    } catch (error) {
      return error instanceof Error
    }
    accepted++
    restore(record)
    return withinRange(record)
  }), { numRuns: 2000 })
  t.pass(`2000 inputs, no crash, no out-of-range record, every accepted one (${accepted}) restored`)
})

t.test('hostile but parseable records: refused with an Error, or within range and restored without throwing', async (t) => {
  // Values a hostile or damaged file could hold, mixed with ones the service writes, so both outcomes come up.
  const hostileTime = fc.oneof(times, fc.double(), fc.constantFrom(-1e300, 1e300, -8.64e15, 8.64e15, 8.64e15 + 1, 0, -0, Number.MAX_VALUE, -Number.MIN_VALUE))
  const hostileId = fc.oneof(sessionIds, fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ minLength: 129, maxLength: 300 }))
  const entry = fc.oneof({ weight: 8, arbitrary: fc.tuple(hostileId, hostileTime) }, { weight: 1, arbitrary: fc.jsonValue() })
  const data = fc.record({
    version: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.jsonValue() }),
    sinceMs: fc.oneof(hostileTime, fc.constant(null)),
    expiries: fc.oneof(
      { weight: 9, arbitrary: fc.array(entry, { maxLength: 8 }) },
      { weight: 1, arbitrary: fc.integer({ min: MAX_SAVED_SESSIONS - 2, max: MAX_SAVED_SESSIONS + 2 }).map((length) => Array.from({ length }, (_, i) => [`s${i}`, NOW])) }
    )
  })
  const outcomes = { accepted: 0, refused: 0 }
  fc.assert(fc.property(data, fc.integer({ min: -60_000, max: 60_000 }), (value, restartAfterMs) => {
    let record: SessionRecord
    try {
      record = parseSessions(JSON.stringify(value), NOW)
    } catch (error) {
      outcomes.refused++
      return error instanceof Error
    }
    outcomes.accepted++
    const state = restore(record, NOW + restartAfterMs)
    return withinRange(record) && (state.since === null || !Number.isNaN(Date.parse(state.since)))
  }), { numRuns: 2000 })
  t.ok(outcomes.accepted > 100 && outcomes.refused > 100, `both outcomes tried: ${JSON.stringify(outcomes)}`)
})

t.test('loading: a missing file is a clean start without complaint', async (t) => {
  const dir = await tempDir(t)
  t.same(await loadSessions(join(dir, 'state.json'), NOW), { record: null })
})

t.test('loading: a corrupt or unreadable file is a clean start with the reason', async (t) => {
  const dir = await tempDir(t)
  const corrupt = join(dir, 'corrupt.json')
  await writeFile(corrupt, '{"version":1,"sinceMs":')
  t.match(await loadSessions(corrupt, NOW), { record: null, problem: /^cannot parse: .*JSON/ })
  const binary = join(dir, 'binary.json')
  await writeFile(binary, Buffer.from([0xff, 0xfe, 0x00, 0x01]))
  t.match(await loadSessions(binary, NOW), { record: null, problem: /^cannot parse/ })
  const directory = join(dir, 'a-directory')
  await mkdir(directory)
  t.same(await loadSessions(directory, NOW), { record: null, problem: 'cannot read: not a regular file but a directory' })
})

t.test('loading: only a regular file is read; anything else is a clean start with what it is, and never a wait', async (t) => {
  const dir = await tempDir(t)
  const things: Array<[string, (path: string) => Promise<void>, string]> = [
    ['FIFO', (path) => makeFifo(path), 'a FIFO'],
    ['socket', (path) => makeSocket(t, path), 'a socket'],
    ['directory', (path) => mkdir(path), 'a directory'],
    ['link-to-zero', (path) => symlink('/dev/zero', path), 'a character device'],
    ['link-to-fifo', (path) => symlink(join(dir, 'FIFO'), path), 'a FIFO'],
    ['link-to-directory', (path) => symlink(dir, path), 'a directory'],
    ['link-loop', (path) => symlink(path, path), 'a symbolic link']
  ]
  for (const [name, make, kind] of things) {
    const path = join(dir, name)
    await make(path)
    t.same(await loadSessions(await resolveStateFile(path), NOW), { record: null, problem: `cannot read: not a regular file but ${kind}` }, name)
  }
  t.same(await loadSessions('/dev/null', NOW), { record: null, problem: 'cannot read: not a regular file but a character device' }, 'a device named directly')
  t.same(await loadSessions(join(dir, 'link-to-fifo'), NOW), { record: null, problem: 'cannot read: not a regular file but a symbolic link' },
    'loading alone never follows a link')
})

t.test('loading: a file over the size bound is refused unread; the largest file the service writes is well within it', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  const padded = (bytes: number) => serializeSessions(RECORD).padEnd(bytes, ' ')
  await writeFile(path, padded(MAX_STATE_FILE_BYTES))
  t.same(await loadSessions(path, NOW), { record: RECORD }, 'exactly at the bound: read')
  await writeFile(path, padded(MAX_STATE_FILE_BYTES + 1))
  t.same(await loadSessions(path, NOW), { record: null, problem: `cannot read: ${MAX_STATE_FILE_BYTES + 1} bytes or more, over the ${MAX_STATE_FILE_BYTES} a state file may hold` })

  // The most sessions, every id as long as allowed, deadlines with a fraction of a millisecond (a fractional TTL).
  const largest: SessionRecord = {
    sinceMs: NOW,
    expiries: Array.from({ length: MAX_SAVED_SESSIONS }, (_, i) => [String(i).padStart(128, 'x'), NOW + 86_400_000 + 0.123456789] as const)
  }
  const text = serializeSessions(largest)
  t.ok(text.length * 4 < MAX_STATE_FILE_BYTES, `${text.length} bytes for ${MAX_SAVED_SESSIONS} sessions: under a quarter of the bound`)
  await writeFile(path, text)
  t.same(await loadSessions(path, NOW), { record: largest })
})

t.test('the state file is where its chain of links ends; a link to nothing leads to where the file will be', async (t) => {
  const dir = await tempDir(t)
  const volume = join(dir, 'volume')
  await mkdir(volume)
  await writeFile(join(volume, 'state.json'), '')
  t.equal(await resolveStateFile(join(volume, 'state.json')), join(volume, 'state.json'), 'a file is itself')
  t.equal(await resolveStateFile(join(dir, 'missing.json')), join(dir, 'missing.json'), 'so is nothing')
  await symlink(join(volume, 'state.json'), join(dir, 'absolute'))
  await symlink('volume/state.json', join(dir, 'relative'))
  await symlink('relative', join(dir, 'chain'))
  await symlink('volume/later.json', join(dir, 'dangling'))
  await symlink('loop-b', join(dir, 'loop-a'))
  await symlink('loop-a', join(dir, 'loop-b'))
  t.equal(await resolveStateFile(join(dir, 'absolute')), join(volume, 'state.json'))
  t.equal(await resolveStateFile(join(dir, 'relative')), join(volume, 'state.json'), "relative to the link's directory")
  t.equal(await resolveStateFile(join(dir, 'chain')), join(volume, 'state.json'))
  t.equal(await resolveStateFile(join(dir, 'dangling')), join(volume, 'later.json'))
  t.equal(await resolveStateFile(join(dir, 'loop-a')), join(dir, 'loop-a'), 'a loop is left to be refused')
})

t.test('stale temporary files of interrupted saves are removed; nothing else is', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state[1].json')
  const stale = NOW - STALE_TEMPORARY_AGE_MS
  const ours = [temporaryPath(path), temporaryPath(path), join(dir, '.state[1].json.000000000000.tmp')]
  const kept = [
    join(dir, '.state1.json.0123456789ab.tmp'), // what the glob `.state[1].json.*.tmp` would match
    join(dir, '.state[1].json.0123456789ab.tmp~'),
    join(dir, '.state[1].json.0123456789abcdef.tmp'),
    join(dir, 'state[1].json')
  ]
  for (const file of [...ours, ...kept]) {
    await writeFile(file, '')
    await utimes(file, new Date(stale), new Date(stale))
  }
  const young = temporaryPath(path)
  await writeFile(young, '')
  await utimes(young, new Date(stale + 1), new Date(stale + 1))
  t.same(await removeStaleTemporaryFiles(path, NOW), { removed: 3 })
  t.same((await readdir(dir)).sort(), [...kept, young].map((file) => file.slice(dir.length + 1)).sort())
  t.same(await removeStaleTemporaryFiles(path, NOW), { removed: 0 }, 'nothing more to do')
  t.same(await removeStaleTemporaryFiles(join(dir, 'missing', 'state.json'), NOW), { removed: 0 }, 'no directory, nothing to do')
  t.match(await removeStaleTemporaryFiles(join(dir, 'state[1].json', 'state.json'), NOW), { removed: 0, problem: /ENOTDIR/ }, 'a problem is told, not thrown')
})

t.test('loading a good file gives its record', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFile(path, serializeSessions(RECORD))
  t.same(await loadSessions(path, NOW), { record: RECORD })
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

t.test('a save into a directory that does not exist fails, and leaves nothing', async (t) => {
  const dir = await tempDir(t)
  await t.rejects(writeAtomically(join(dir, 'missing', 'state.json'), 'contents'), { code: 'ENOENT' })
  t.same(await readdir(dir), [])
})

t.test('a save replaces only a regular file: a directory, FIFO, socket or link at the path stays, and nothing is written through it', async (t) => {
  const dir = await tempDir(t)
  const target = join(dir, 'target.json')
  await writeFile(target, 'untouched')
  const things: Array<[string, (path: string) => Promise<void>]> = [
    ['directory', (path) => mkdir(path)],
    ['FIFO', (path) => makeFifo(path)],
    ['socket', (path) => makeSocket(t, path)],
    ['symbolic link', (path) => symlink(target, path)]
  ]
  for (const [kind, make] of things) {
    const path = join(dir, kind.replace(' ', '-'))
    await make(path)
    const before = await lstat(path)
    await t.rejects(writeAtomically(path, 'new contents'), { message: `${path} is a ${kind}, not a regular file: left as it is, nothing saved` }, kind)
    const after = await lstat(path)
    t.same([after.ino, after.mode], [before.ino, before.mode], `${kind}: the same ${kind}, still there`)
  }
  t.equal(await readFile(target, 'utf8'), 'untouched', 'the link was not followed')
  t.same((await readdir(dir)).sort(), ['FIFO', 'directory', 'socket', 'symbolic-link', 'target.json'], 'no temporary file made')
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
