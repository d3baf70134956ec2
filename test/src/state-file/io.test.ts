import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { DEFAULT_SESSION, type StoreRecord } from '../../../src/live/sessions.ts'
import { MAX_SAVED_SESSIONS, serializeSessions } from '../../../src/state-file/format.ts'
import {
  loadSessions, MAX_STATE_FILE_BYTES, removeStaleTemporaryFiles, resolveStateFile,
  STALE_TEMPORARY_AGE_MS, StateFileWriter, temporaryPath, writeAtomically
} from '../../../src/state-file/io.ts'
import { makeFifo, makeSocket } from '../../helpers/special-files.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

const NOW = Date.parse('2026-01-01T00:00:00.000Z')
const RECORD: StoreRecord = {
  seq: 3,
  sinceMs: NOW,
  lastSeenMs: null,
  sessions: [{ id: DEFAULT_SESSION, expiresAtMs: NOW + 50_000, status: 'live', statusSinceMs: NOW, activity: {} }]
}

t.test('loading: a missing file is a clean start without complaint', async (t) => {
  const dir = await tempDir(t)
  t.same(await loadSessions(join(dir, 'state.json'), NOW), { record: null })
})

t.test('loading: a corrupt or unreadable file is a clean start with the reason', async (t) => {
  const dir = await tempDir(t)
  const corrupt = join(dir, 'corrupt.json')
  await writeFile(corrupt, '{"version":2,"sinceMs":')
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

  // The most sessions, every id and name as long as allowed (names of 4-byte characters), deadlines with a fraction
  // of a millisecond (a fractional TTL).
  const longest = '😀'.repeat(48)
  const largest: StoreRecord = {
    seq: Number.MAX_SAFE_INTEGER,
    sinceMs: NOW,
    lastSeenMs: NOW - 0.123456789,
    sessions: Array.from({ length: MAX_SAVED_SESSIONS }, (_, i) => ({
      id: String(i).padStart(128, 'x'),
      expiresAtMs: NOW + 86_400_000 + 0.123456789,
      status: 'working' as const,
      statusSinceMs: NOW - 0.123456789,
      activity: { model: longest, project: longest, tool: 'running commands' }
    }))
  }
  const text = serializeSessions(largest)
  const bytes = Buffer.byteLength(text)
  t.ok(bytes * 1.5 < MAX_STATE_FILE_BYTES, `${bytes} bytes for ${MAX_SAVED_SESSIONS} sessions: under two thirds of the bound`)
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
