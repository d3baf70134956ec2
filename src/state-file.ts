import { randomBytes } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { SessionRecord, StoreRecord } from './live-state.js'
import { ACTIVITY_FIELDS, SESSION_STATUSES, type Activity } from './public-state.js'

const FORMAT_VERSION = 2

export function serializeSessions (record: StoreRecord): string {
  return JSON.stringify({ version: FORMAT_VERSION, ...record })
}

/**
 * Parses a state file's text; throws, saying what is wrong, for anything but a well-formed record.
 * Version 1 files (sessions and deadlines only, from before statuses) are read as sessions that
 * report no status, so a deploy across the upgrade keeps them live.
 */
export function parseSessions (text: string): StoreRecord {
  const data: unknown = JSON.parse(text)
  if (!isObject(data)) throw new Error('not a state file')
  if (data.version === 1) return parseVersion1(data)
  if (data.version !== FORMAT_VERSION) throw new Error(`not a version 1 or ${FORMAT_VERSION} state file`)
  const { seq, sinceMs, lastSeenMs, sessions } = data
  if (!(Number.isSafeInteger(seq) && (seq as number) >= 0)) throw new Error('seq is not a count')
  if (!isTimeOrNull(sinceMs)) throw new Error('sinceMs is neither null nor a number')
  if (!isTimeOrNull(lastSeenMs)) throw new Error('lastSeenMs is neither null nor a number')
  if (!Array.isArray(sessions) || !sessions.every(isSessionRecord)) throw new Error('sessions is not a list of sessions')
  if (sinceMs === null && sessions.length > 0) throw new Error('sessions without a start time')
  return { seq: seq as number, sinceMs, lastSeenMs, sessions }
}

function parseVersion1 ({ sinceMs, expiries }: Record<string, unknown>): StoreRecord {
  if (!isTimeOrNull(sinceMs)) throw new Error('sinceMs is neither null nor a number')
  if (!Array.isArray(expiries) || !expiries.every(isExpiry)) throw new Error('expiries is not a list of [session id, time]')
  if (sinceMs === null && expiries.length > 0) throw new Error('sessions without a start time')
  const sessions = expiries.map(([id, expiresAtMs]): SessionRecord =>
    ({ id, expiresAtMs, status: 'live', statusSinceMs: sinceMs as number, activity: {} }))
  return { seq: 0, sinceMs, lastSeenMs: null, sessions }
}

export interface LoadedSessions {
  /** null when there is nothing usable: no file, or one that cannot be read or parsed */
  record: StoreRecord | null
  /** why a file that exists could not be used */
  problem?: string
}

/** Reads the state file without ever throwing: a missing file is a clean start, a bad one a clean start with the reason. */
export async function loadSessions (path: string): Promise<LoadedSessions> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { record: null }
    return { record: null, problem: `cannot read: ${(error as Error).message}` }
  }
  try {
    return { record: parseSessions(text) }
  } catch (error) {
    return { record: null, problem: `cannot parse: ${(error as Error).message}` }
  }
}

/**
 * Replaces the file so a reader sees the old contents or the new, never a mix:
 * write a temporary file beside it, flush it to disk, rename it over the old
 * one, then flush the directory so the rename itself survives a power cut.
 * Only the service's user may read it: it holds the session ids.
 */
export async function writeAtomically (path: string, contents: string): Promise<void> {
  const directory = dirname(path)
  // Unique, so two processes sharing the volume during a deploy never write into one temporary file.
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
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
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
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

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isExpiry (value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 &&
    typeof value[0] === 'string' && value[0].length > 0 && Number.isFinite(value[1])
}

function isTimeOrNull (value: unknown): value is number | null {
  return value === null || Number.isFinite(value)
}

function isSessionRecord (value: unknown): value is SessionRecord {
  if (!isObject(value)) return false
  const { id, expiresAtMs, status, statusSinceMs, activity } = value
  return typeof id === 'string' && id.length > 0 && Number.isFinite(expiresAtMs) && Number.isFinite(statusSinceMs) &&
    (SESSION_STATUSES as readonly unknown[]).includes(status) && isActivity(activity)
}

function isActivity (value: unknown): value is Activity {
  return isObject(value) && Object.entries(value).every(([field, text]) =>
    (ACTIVITY_FIELDS as readonly string[]).includes(field) && typeof text === 'string')
}
