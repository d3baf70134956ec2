import { renameSync, statSync } from 'node:fs'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type { Activity, SessionStatus } from '../live/public-state.ts'
import { kindOf } from '../state-file/io.ts'
import type { IsoDate } from './owner-calendar.ts'
import type { DayTimes, HistoryBatch, HistoryStore, RecordedHistory, Stretch } from './store.ts'

/** Marks a database as cc-live's history ("ccLh"), so a file of another program is never migrated. */
const APPLICATION_ID = 0x63634c68

/**
 * The schema, one step per version; `PRAGMA user_version` says how many have been applied. A step
 * is only ever added, never changed, so every database on disk can be brought up to date.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE days (
     date TEXT PRIMARY KEY,
     active_ms INTEGER NOT NULL,
     working_ms INTEGER NOT NULL,
     waiting_ms INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE stretches (
     key TEXT PRIMARY KEY,
     session_id TEXT,
     start_ms INTEGER NOT NULL,
     end_ms INTEGER,
     status TEXT NOT NULL CHECK (status IN ('working', 'waiting', 'live', 'idle')),
     activity TEXT NOT NULL CHECK (json_valid(activity)),
     working_ms INTEGER NOT NULL,
     waiting_ms INTEGER NOT NULL,
     idle_ms INTEGER NOT NULL,
     live_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX stretches_by_start ON stretches (start_ms);
   CREATE INDEX open_stretches ON stretches (end_ms) WHERE end_ms IS NULL;
   CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;`
]

interface StretchRow {
  key: string
  session_id: string | null
  start_ms: number
  end_ms: number | null
  status: SessionStatus
  activity: string
  working_ms: number
  waiting_ms: number
  idle_ms: number
  live_ms: number
}

interface DayRow {
  date: string
  active_ms: number
  working_ms: number
  waiting_ms: number
}

const STRETCH_COLUMNS = 'key, session_id, start_ms, end_ms, status, activity, working_ms, waiting_ms, idle_ms, live_ms'

/**
 * The history in an SQLite database through `node:sqlite`: WAL mode, so readers (another
 * connection, a backup) never block the writer nor it them; synchronous=NORMAL, so a commit
 * survives the process being killed without waiting for the disk (a power cut may lose the commits
 * since the last checkpoint). Every write is one transaction. No busy timeout: a write that finds
 * the database locked fails at once and the recorder retries it with the next one, rather than
 * holding the event loop.
 */
export class SqliteHistoryStore implements HistoryStore {
  readonly #db: DatabaseSync
  readonly #statements: Record<'recordedUntil' | 'open' | 'addDay' | 'putStretch' | 'setRecordedUntil' | 'pruneDays' | 'pruneStretches' | 'days' | 'stretches', StatementSync>

  /** Opens and migrates the database at `location` (a file, or `:memory:`); throws if it is unusable. */
  constructor (location: string) {
    this.#db = new DatabaseSync(location)
    try {
      prepare(this.#db)
    } catch (error) {
      this.#db.close()
      throw error
    }
    const sql = (text: string) => this.#db.prepare(text)
    this.#statements = {
      recordedUntil: sql("SELECT value FROM meta WHERE name = 'recorded_until_ms'"),
      open: sql(`SELECT ${STRETCH_COLUMNS} FROM stretches WHERE end_ms IS NULL ORDER BY start_ms`),
      addDay: sql(`INSERT INTO days (date, active_ms, working_ms, waiting_ms) VALUES (?, ?, ?, ?)
        ON CONFLICT (date) DO UPDATE SET active_ms = active_ms + excluded.active_ms,
          working_ms = working_ms + excluded.working_ms, waiting_ms = waiting_ms + excluded.waiting_ms`),
      putStretch: sql(`INSERT OR REPLACE INTO stretches (${STRETCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      setRecordedUntil: sql("INSERT OR REPLACE INTO meta (name, value) VALUES ('recorded_until_ms', ?)"),
      pruneDays: sql('DELETE FROM days WHERE date < ?'),
      pruneStretches: sql('DELETE FROM stretches WHERE end_ms < ?'),
      days: sql('SELECT date, active_ms, working_ms, waiting_ms FROM days WHERE date BETWEEN ? AND ? ORDER BY date'),
      stretches: sql(`SELECT ${STRETCH_COLUMNS} FROM stretches ORDER BY start_ms DESC LIMIT ?`)
    }
  }

  async load (): Promise<RecordedHistory> {
    const row = this.#statements.recordedUntil.get() as { value: number } | undefined
    // Told its events directly, by one process: no log to read on from.
    return { recordedUntilMs: row?.value ?? null, open: (this.#statements.open.all() as unknown as StretchRow[]).map(toStretch), position: null }
  }

  async write ({ recordedUntilMs, days, stretches, prune }: HistoryBatch): Promise<void> {
    const { addDay, putStretch, setRecordedUntil, pruneDays, pruneStretches } = this.#statements
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      for (const { date, activeMs, workingMs, waitingMs } of days) addDay.run(date, ms(activeMs), ms(workingMs), ms(waitingMs))
      for (const stretch of stretches) {
        const { key, sessionId, startMs, endMs, status, activity, ms: times } = stretch
        putStretch.run(key, sessionId, ms(startMs), endMs === null ? null : ms(endMs), status, JSON.stringify(activity),
          ms(times.working), ms(times.waiting), ms(times.idle), ms(times.live))
      }
      setRecordedUntil.run(ms(recordedUntilMs))
      if (prune !== undefined) {
        pruneDays.run(prune.beforeDate)
        pruneStretches.run(ms(prune.endedBeforeMs))
      }
      this.#db.exec('COMMIT')
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw error
    }
  }

  async days (from: IsoDate, to: IsoDate): Promise<DayTimes[]> {
    return (this.#statements.days.all(from, to) as unknown as DayRow[]).map((row) => ({
      date: row.date, activeMs: row.active_ms, workingMs: row.working_ms, waitingMs: row.waiting_ms
    }))
  }

  async stretches (limit: number): Promise<Stretch[]> {
    return (this.#statements.stretches.all(limit) as unknown as StretchRow[]).map(toStretch)
  }

  async close (): Promise<void> {
    if (this.#db.isOpen) this.#db.close()
  }
}

/** SQLite integers; the clock may hand out fractions of a millisecond. */
const ms = (value: number): number => Math.round(value)

function toStretch (row: StretchRow): Stretch {
  return {
    key: row.key,
    sessionId: row.session_id,
    startMs: row.start_ms,
    endMs: row.end_ms,
    status: row.status,
    activity: JSON.parse(row.activity) as Activity,
    ms: { working: row.working_ms, waiting: row.waiting_ms, idle: row.idle_ms, live: row.live_ms }
  }
}

/** Sets the connection up, checks that the file is a sound database of ours, and brings its schema up to date. */
function prepare (db: DatabaseSync): void {
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
  const check = db.prepare('PRAGMA quick_check').all().map((row) => Object.values(row)[0])
  if (check.length !== 1 || check[0] !== 'ok') throw new Error(`damaged: ${check.slice(0, 3).join('; ')}`)
  const version = pragma(db, 'user_version')
  const applicationId = pragma(db, 'application_id')
  const empty = (db.prepare('SELECT count(*) AS tables FROM sqlite_schema').get() as { tables: number }).tables === 0
  if (applicationId !== APPLICATION_ID && !(applicationId === 0 && empty)) throw new Error('not a cc-live history database')
  if (version > MIGRATIONS.length) throw new Error(`schema version ${version}, newer than this cc-live knows (${MIGRATIONS.length})`)
  for (let step = version; step < MIGRATIONS.length; step++) {
    db.exec('BEGIN IMMEDIATE')
    try {
      db.exec(MIGRATIONS[step] as string)
      db.exec(`PRAGMA user_version = ${step + 1}; PRAGMA application_id = ${APPLICATION_ID}`)
      db.exec('COMMIT')
    } catch (error) {
      db.exec('ROLLBACK')
      throw error
    }
  }
}

function pragma (db: DatabaseSync, name: string): number {
  return Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0] as number
}

/** What opening the configured history gave: the store, and what had to be done to get one. */
export interface OpenedHistory {
  store: SqliteHistoryStore
  /** `null`: kept in memory, because no file was configured or the file could not be used. */
  file: string | null
  /** A file that could not be used, and why. */
  problem?: string
  /** Where the unusable file was moved. */
  movedTo?: string
}

/** The files SQLite keeps beside a database in WAL mode, moved along with it. */
const COMPANIONS = ['', '-wal', '-shm']

/**
 * Opens the history at `path` (null: in memory) whatever is on disk, never throwing: a file that is
 * damaged, not a database, or from a newer cc-live is moved aside (`<name>.unusable-<time>`) and a
 * fresh one started; anything there that is not a regular file (a directory, a FIFO) is left alone
 * and the history kept in memory, as it is when even a fresh file cannot be made.
 */
export function openHistory (path: string | null, nowMs: number): OpenedHistory {
  if (path === null) return { store: new SqliteHistoryStore(':memory:'), file: null }
  const kind = existingKind(path)
  if (kind !== null) return { store: new SqliteHistoryStore(':memory:'), file: null, problem: `not a regular file but ${kind}: left as it is, history kept in memory` }
  let problem: string
  try {
    return { store: new SqliteHistoryStore(path), file: path }
  } catch (error) {
    problem = (error as Error).message
  }
  const movedTo = `${path}.unusable-${new Date(nowMs).toISOString().replace(/[-:]|\.\d+/g, '')}`
  try {
    for (const suffix of COMPANIONS) moveIfThere(path + suffix, movedTo + suffix)
    return { store: new SqliteHistoryStore(path), file: path, problem, movedTo }
  } catch (error) {
    return { store: new SqliteHistoryStore(':memory:'), file: null, problem: `${problem}; and then: ${(error as Error).message}; history kept in memory` }
  }
}

/** What is at path when it is something other than a regular file (a link is followed), else null. */
function existingKind (path: string): string | null {
  try {
    const stats = statSync(path)
    return stats.isFile() ? null : kindOf(stats)
  } catch {
    return null // nothing there (or nothing we may look at: opening it says which)
  }
}

function moveIfThere (from: string, to: string): void {
  try {
    renameSync(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
