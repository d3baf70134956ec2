import type { PublicState, Snapshot } from '../../src/live/public-state.ts'

/** The public state of a fresh server: no session has been live yet. */
export const OFFLINE: PublicState = { seq: 0, active: false, status: 'offline', since: null, sessions: 0, lastSeen: null, activity: [] }

/** What every offline state has, whatever its seq and lastSeen: for t.match. */
export const IS_OFFLINE = { active: false, status: 'offline', since: null, sessions: 0, activity: [] } as const

const SINCE = '2026-01-01T00:00:00.000Z'

/** One session live, reporting no status: what a first bare heartbeat publishes. */
export const LIVE: PublicState = { seq: 1, active: true, status: 'live', since: SINCE, sessions: 1, lastSeen: null, activity: [{ status: 'live', since: SINCE }] }

/** A state with its wire form, as the store hands it out. */
export function snapshot (state: PublicState): Snapshot {
  return { state, json: JSON.stringify(state) }
}
