/** A live session's status, in the order the top-level status picks: the first any session has. */
export const SESSION_STATUSES = ['working', 'waiting', 'live', 'idle'] as const
export type SessionStatus = typeof SESSION_STATUSES[number]
export type Status = SessionStatus | 'offline'

/** What a session may tell about itself beyond its status, each only if the owner shares it. */
export const ACTIVITY_FIELDS = ['model', 'project', 'tool'] as const
export type ActivityField = typeof ACTIVITY_FIELDS[number]
export type Activity = Partial<Record<ActivityField, string>>

export type ActivityEntry = { status: SessionStatus, since: string } & Activity

/** What viewers see. Session ids stay on the server. */
export interface PublicState {
  /** +1 with every published change; viewers drop a message not newer than the last. */
  readonly seq: number
  readonly active: boolean
  readonly status: Status
  /** ISO-8601 start of the current live period, null while offline. */
  readonly since: string | null
  readonly sessions: number
  /** ISO-8601 moment the owner last went from live to offline, null until it first happens. */
  readonly lastSeen: string | null
  /** One entry per live session, most recently changed first. */
  readonly activity: readonly ActivityEntry[]
}

/**
 * A public state with its wire form, built once per change so every viewer,
 * transport and response shares the same serialization.
 */
export interface Snapshot {
  readonly state: PublicState
  readonly json: string
}

/** A live session as far as the public may know it, wall-clock times in ms. */
export interface PublicSession {
  readonly status: SessionStatus
  readonly statusSinceMs: number
  readonly activity: Activity
}

/** Everything a public state is made of except its seq. */
export interface PublicView {
  readonly sinceMs: number | null
  readonly lastSeenMs: number | null
  /** Most recently changed first. */
  readonly sessions: readonly PublicSession[]
}

/** The public state of a view without its seq, serialized: equal texts mean nothing public changed. */
export type StateContent = string

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

/** The status the public sees: the first in SESSION_STATUSES that any session has, else offline. */
export function topStatus (sessions: ReadonlyArray<{ readonly status: SessionStatus }>): Status {
  return SESSION_STATUSES.find((status) => sessions.some((session) => session.status === status)) ?? 'offline'
}

/** Whether two activities say the same, field by field. */
export function sameActivity (a: Activity, b: Activity): boolean {
  return ACTIVITY_FIELDS.every((field) => a[field] === b[field])
}

/** The view as the public sees it, serialized once; `snapshotOf` adds the seq without serializing again. */
export function stateContent ({ sinceMs, lastSeenMs, sessions }: PublicView): StateContent {
  const state: Omit<PublicState, 'seq'> = {
    active: sessions.length > 0,
    status: topStatus(sessions),
    since: iso(sinceMs),
    sessions: sessions.length,
    lastSeen: iso(lastSeenMs),
    activity: sessions.map(({ status, statusSinceMs, activity }) => ({ status, since: iso(statusSinceMs) as string, ...activity }))
  }
  return JSON.stringify(state)
}

export function snapshotOf (content: StateContent, seq: number): Snapshot {
  const json = `{"seq":${seq},${content.slice(1)}`
  return { state: JSON.parse(json) as PublicState, json }
}

/** What a fresh server publishes before anything has happened. */
export const INITIAL: Snapshot = snapshotOf(stateContent({ sinceMs: null, lastSeenMs: null, sessions: [] }), 0)
