import type { SessionRecord, StoreRecord } from '../live/sessions.ts'
import { TOOL_VERBS } from '../live/heartbeat-schema.ts'
import { SESSION_STATUSES, type Activity } from '../live/public-state.ts'
import { readCount, readList, readObject, readOneOf, readOptional, readPublicName, readSessionId, readTime, readTuple } from './readers.ts'

const FORMAT_VERSION = 2

/**
 * The most sessions a state file may hold: CC_LIVE_MAX_SESSIONS caps the live ones (64 by
 * default, at most this); a file with more is not one this service wrote.
 */
export const MAX_SAVED_SESSIONS = 1000

export function serializeSessions (record: StoreRecord): string {
  return JSON.stringify({ version: FORMAT_VERSION, ...record })
}

/**
 * Parses a state file's text read at nowMs (wall clock); throws, saying where and what is wrong,
 * for anything but a record this service could have written, so that restoring what it returns
 * cannot fail. Version 1 files (sessions and deadlines only, from before statuses) are read as
 * sessions that report no status, so a deploy across the upgrade keeps them live.
 */
export function parseSessions (text: string, nowMs: number): StoreRecord {
  const file = readObject(JSON.parse(text), 'the file')
  if (file.version !== 1 && file.version !== FORMAT_VERSION) throw new Error(`not a version 1 or ${FORMAT_VERSION} state file`)
  const record = file.version === 1 ? readVersion1(file, nowMs) : readVersion2(file, nowMs)
  if (record.sinceMs === null && record.sessions.length > 0) throw new Error('sessions without a start time')
  return record
}

const readTimeOrNull = (value: unknown, where: string, nowMs: number): number | null => value === null ? null : readTime(value, where, nowMs)

function readVersion2 (file: Record<string, unknown>, nowMs: number): StoreRecord {
  return {
    seq: readCount(file.seq, 'seq', Number.MAX_SAFE_INTEGER),
    sinceMs: readTimeOrNull(file.sinceMs, 'sinceMs', nowMs),
    lastSeenMs: readTimeOrNull(file.lastSeenMs, 'lastSeenMs', nowMs),
    sessions: readList(file.sessions, 'sessions', MAX_SAVED_SESSIONS, (item, where) => readSession(item, where, nowMs))
  }
}

function readSession (value: unknown, where: string, nowMs: number): SessionRecord {
  const session = readObject(value, where)
  return {
    id: readSessionId(session.id, `${where}.id`),
    expiresAtMs: readTime(session.expiresAtMs, `${where}.expiresAtMs`, nowMs),
    status: readOneOf(session.status, `${where}.status`, SESSION_STATUSES),
    statusSinceMs: readTime(session.statusSinceMs, `${where}.statusSinceMs`, nowMs),
    activity: readActivity(session.activity, `${where}.activity`)
  }
}

/** Only the fields there are, each as the heartbeat route would have taken it. */
function readActivity (value: unknown, where: string): Activity {
  const fields = readObject(value, where)
  const activity: Activity = {}
  const model = readOptional(fields.model, `${where}.model`, readPublicName)
  const project = readOptional(fields.project, `${where}.project`, readPublicName)
  const tool = readOptional(fields.tool, `${where}.tool`, (item, at) => readOneOf(item, at, TOOL_VERBS))
  if (model !== undefined) activity.model = model
  if (project !== undefined) activity.project = project
  if (tool !== undefined) activity.tool = tool
  return activity
}

function readVersion1 (file: Record<string, unknown>, nowMs: number): StoreRecord {
  const sinceMs = readTimeOrNull(file.sinceMs, 'sinceMs', nowMs)
  const sessions = readList(file.expiries, 'expiries', MAX_SAVED_SESSIONS, (entry, where): SessionRecord => {
    const [id, expiresAtMs] = readTuple(entry, where, 2)
    return {
      id: readSessionId(id, `${where}[0]`),
      expiresAtMs: readTime(expiresAtMs, `${where}[1]`, nowMs),
      status: 'live',
      statusSinceMs: sinceMs ?? nowMs,
      activity: {}
    }
  })
  return { seq: 0, sinceMs, lastSeenMs: null, sessions }
}
