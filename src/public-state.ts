/** What viewers see. Session ids stay on the server; only their count is public. */
export interface PublicState {
  readonly active: boolean
  /** ISO-8601 start of the current live period, null while offline. */
  readonly since: string | null
  readonly sessions: number
}

/**
 * A public state with its wire form, built once per change so every viewer,
 * transport and response shares the same serialization.
 */
export interface Snapshot {
  readonly state: PublicState
  readonly json: string
}

export function createSnapshot (sessions: number, sinceMs: number | null): Snapshot {
  const state: PublicState = {
    active: sessions > 0,
    since: sinceMs === null ? null : new Date(sinceMs).toISOString(),
    sessions
  }
  return { state, json: JSON.stringify(state) }
}

export const OFFLINE: Snapshot = createSnapshot(0, null)
