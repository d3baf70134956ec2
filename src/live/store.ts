import type { Activity, SessionStatus, Snapshot } from './public-state.ts'

export interface Heartbeat {
  /** The default session when absent. */
  sessionId?: string
  /** Absent: the session keeps its status (`live` for a new one). */
  status?: SessionStatus
  /** Absent: the session keeps its activity. Present: it replaces it. */
  activity?: Activity
}

export type HeartbeatResult =
  | { snapshot: Snapshot, retryAfterMs?: undefined }
  /** A new session over the cap: nothing changed; try again when the earliest session expires. */
  | { retryAfterMs: number, snapshot?: undefined }

/**
 * Something that happened to one session, told once by the process that made it happen: what
 * the history is recorded from. Times are wall-clock ms; `activity` holds only public fields.
 * - `start`: a session went live; `change`: its status or activity changed; `end`: it was
 *   stopped or expired (at `atMs`, its deadline, for one found expired later);
 * - `resume`: a session restored after a restart, live since before `atMs`, still in `status`
 *   since `statusSinceMs`.
 */
export type SessionEvent =
  | { type: 'start' | 'change', sessionId: string, atMs: number, status: SessionStatus, activity: Activity }
  | { type: 'end', sessionId: string, atMs: number, reason: 'stop' | 'expiry' }
  | { type: 'resume', sessionId: string, atMs: number, status: SessionStatus, statusSinceMs: number, activity: Activity }

/** A mutation could not reach the shared state: nothing is known to have changed; try again later. */
export class StoreUnavailableError extends Error {
  constructor (reason: string, options?: ErrorOptions) {
    super(`the shared live state is unreachable: ${reason}`, options)
    this.name = 'StoreUnavailableError'
  }
}

/**
 * The live state behind one interface, whatever holds it: in this process (src/live/state.ts) or
 * shared by replicas (src/live/redis-store.ts). Mutations are asynchronous and reject with
 * StoreUnavailableError when the state cannot be reached; `snapshot` is the latest state this
 * process knows (and has sent its viewers), for a viewer joining now.
 */
export interface LiveStore {
  readonly snapshot: Snapshot
  /** Whether mutations can reach the state now; always true in one process. */
  readonly available: boolean
  heartbeat (heartbeat: Heartbeat): Promise<HeartbeatResult>
  /** Ends one session, or every session when no id is given. */
  stop (sessionId?: string): Promise<Snapshot>
  /** Each change of the public state, once, in seq order. */
  onChange (listener: (snapshot: Snapshot) => void): () => void
  /** Each session event this process caused, once across every process sharing the state. */
  onSessionEvent (listener: (event: SessionEvent) => void): () => void
  close (): Promise<void>
}

/** Adds a listener to a store's set of them; the function returned takes it out again. */
export function subscribe<Listener> (listeners: Set<Listener>, listener: Listener): () => void {
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}
