import { randomBytes } from 'node:crypto'
import { constants, type Stats } from 'node:fs'
import { lstat, open, opendir, readlink, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { StoreRecord } from '../live/sessions.ts'
import { parseSessions } from './format.ts'

/**
 * The largest state file read; a larger one is refused unread. MAX_SAVED_SESSIONS sessions with
 * 128-character ids and every activity field at its longest take about 0.6 MB; 1 MiB leaves room.
 * The costliest MiB of JSON to parse (lists nested half a million deep) holds about 30 MB of heap
 * while it is parsed, which a server with a 64 MB heap can spare at start.
 */
export const MAX_STATE_FILE_BYTES = 1024 * 1024

export interface LoadedSessions {
  /** null when there is nothing usable: no file, or one that cannot be read or parsed */
  record: StoreRecord | null
  /** why a file that exists could not be used */
  problem?: string
}

/** Symbolic links followed at most, as many as Linux follows before it gives up (ELOOP). */
const MAX_LINK_HOPS = 40

/**
 * Where the state file really is: the end of the chain of symbolic links at
 * path, followed once, here, so that a link to a file on a volume keeps
 * pointing at the file every save replaces (and a link to a file yet to be
 * made has it made there). Loading and saving never follow a link themselves:
 * whatever the chain ends at must be a regular file, or is refused.
 */
export async function resolveStateFile (path: string): Promise<string> {
  let current = path
  for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
    try {
      if (!(await lstat(current)).isSymbolicLink()) return current
      current = resolve(dirname(current), await readlink(current))
    } catch {
      return current // nothing there yet (or nothing we may look at): loading and saving say which
    }
  }
  return path // a loop: loading and saving refuse the link
}

/**
 * Reads the state file without ever throwing: a missing file is a clean start;
 * one that is not a regular file, too large, or not a valid record is a clean
 * start with the reason. Times are checked against nowMs.
 */
export async function loadSessions (path: string, nowMs: number): Promise<LoadedSessions> {
  let bytes: Buffer | null
  try {
    bytes = await readRegularFile(path, MAX_STATE_FILE_BYTES)
  } catch (error) {
    return { record: null, problem: `cannot read: ${(error as Error).message}` }
  }
  if (bytes === null) return { record: null }
  try {
    return { record: parseSessions(bytes.toString('utf8'), nowMs) }
  } catch (error) {
    return { record: null, problem: `cannot parse: ${(error as Error).message}` }
  }
}

// Non-blocking, so that should the path become a FIFO after it was looked at, opening it cannot
// wait for a writer; not following a link, as resolveStateFile did the following.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW

/** A regular file's bytes, or null when nothing is at path; throws for anything else or more than maxBytes. */
async function readRegularFile (path: string, maxBytes: number): Promise<Buffer | null> {
  let stats: Stats
  try {
    // Looked at before opening, so a device or FIFO is not even opened.
    stats = await lstat(path)
  } catch (error) {
    if (isMissing(error)) return null
    throw error
  }
  checkReadable(stats, maxBytes)
  const file = await open(path, READ_FLAGS)
  try {
    const opened = await file.stat()
    checkReadable(opened, maxBytes)
    return await readAtMost(file, maxBytes)
  } finally {
    await file.close()
  }
}

function checkReadable (stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new Error(`not a regular file but ${kindOf(stats)}`)
  if (stats.size > maxBytes) throw tooLarge(stats.size, maxBytes)
}

/** Reads to the end; one byte more than maxBytes tells a file that grew after its size was checked. */
async function readAtMost (file: FileHandle, maxBytes: number): Promise<Buffer> {
  const buffer = Buffer.alloc(maxBytes + 1)
  let length = 0
  for (;;) {
    const { bytesRead } = await file.read(buffer, length, buffer.length - length, length)
    length += bytesRead
    if (bytesRead === 0 || length === buffer.length) break
  }
  if (length > maxBytes) throw tooLarge(length, maxBytes)
  return buffer.subarray(0, length)
}

function tooLarge (bytes: number, maxBytes: number): Error {
  return new Error(`${bytes} bytes or more, over the ${maxBytes} a state file may hold`)
}

export function kindOf (stats: Stats): string {
  if (stats.isDirectory()) return 'a directory'
  if (stats.isSymbolicLink()) return 'a symbolic link'
  if (stats.isFIFO()) return 'a FIFO'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  return 'an unknown kind of file'
}

/**
 * Replaces the file so a reader sees the old contents or the new, never a mix:
 * write a temporary file beside it, flush it to disk, rename it over the old
 * one, then flush the directory so the rename itself survives a power cut.
 * The file at path is never opened, so a save never writes through a FIFO or a
 * device; and only a regular file is replaced: anything else at path (a
 * directory, FIFO, socket, device or link) was put there by someone else and
 * stays, and the save fails saying so. Only the service's user may read the
 * file: it holds the session ids.
 */
export async function writeAtomically (path: string, contents: string): Promise<void> {
  const existing = await lstat(path).catch((error: unknown) => { if (isMissing(error)) return null; throw error })
  if (existing !== null && !existing.isFile()) throw new Error(`${path} is ${kindOf(existing)}, not a regular file: left as it is, nothing saved`)
  const temporary = temporaryPath(path)
  try {
    const file = await open(temporary, 'wx', 0o600)
    try {
      await file.writeFile(contents)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => {})
    throw error
  }
  const handle = await open(dirname(path), 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const TEMPORARY_ID_BYTES = 6
const TEMPORARY_ID = new RegExp(`^[0-9a-f]{${2 * TEMPORARY_ID_BYTES}}$`)

/**
 * `.state.json.<12 hex digits>.tmp` beside `state.json`: random, so two
 * processes sharing the volume during a deploy never write into one temporary file.
 */
export function temporaryPath (path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(TEMPORARY_ID_BYTES).toString('hex')}.tmp`)
}

function isTemporaryName (name: string, base: string): boolean {
  const prefix = `.${base}.`
  const suffix = '.tmp'
  return name.startsWith(prefix) && name.endsWith(suffix) && TEMPORARY_ID.test(name.slice(prefix.length, -suffix.length))
}

/**
 * How old a temporary file must be to count as left by an interrupted save. A
 * save takes milliseconds; a younger file may be a save in flight by the
 * process this one replaces during a deploy.
 */
export const STALE_TEMPORARY_AGE_MS = 60_000

export interface RemovedTemporaryFiles {
  removed: number
  /** why the directory could not be cleaned up */
  problem?: string
}

/**
 * Removes what saves interrupted by a crash or SIGKILL left beside the state
 * file: regular files named exactly as writeAtomically names its temporary
 * files, for this file, unmodified for STALE_TEMPORARY_AGE_MS before nowMs.
 * Nothing else is touched. Never throws.
 */
export async function removeStaleTemporaryFiles (path: string, nowMs: number): Promise<RemovedTemporaryFiles> {
  const directory = dirname(path)
  const base = basename(path)
  let removed = 0
  try {
    // A name test, not a glob: the file's own name may hold glob characters.
    for await (const entry of await opendir(directory)) {
      if (!isTemporaryName(entry.name, base)) continue
      const file = join(directory, entry.name)
      try {
        const stats = await lstat(file)
        if (!stats.isFile() || nowMs - stats.mtimeMs < STALE_TEMPORARY_AGE_MS) continue
        await unlink(file)
        removed++
      } catch (error) {
        // Gone already: another process starting on the same volume removed it first.
        if (!isMissing(error)) throw error
      }
    }
  } catch (error) {
    if (!isMissing(error)) return { removed, problem: (error as Error).message }
  }
  return { removed }
}

export interface StateFileWriterOptions {
  path: string
  /** The contents to write, read when a write starts so the latest state always wins. */
  contents: () => string
  onError: (error: unknown) => void
}

/**
 * Saves on request with at most one write in flight: requests that arrive
 * during a write fold into one more write, so a burst of changes costs two
 * writes, not one per change. A failed write is reported and retried on the
 * next request.
 */
export class StateFileWriter {
  readonly #options: StateFileWriterOptions
  #dirty = false
  #writing: Promise<void> | null = null

  constructor (options: StateFileWriterOptions) {
    this.#options = options
  }

  save (): void {
    this.#dirty = true
    this.#writing ??= this.#drain()
  }

  /** Resolves once everything requested so far is on disk (or has failed). */
  async flush (): Promise<void> {
    await this.#writing
  }

  async #drain (): Promise<void> {
    const { path, contents, onError } = this.#options
    try {
      while (this.#dirty) {
        this.#dirty = false
        await writeAtomically(path, contents()).catch(onError)
      }
    } finally {
      this.#writing = null
    }
  }
}

function isMissing (error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}
