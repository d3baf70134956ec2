import { StoreUnavailableError } from '../live/store.ts'

/** Replies that mean the server cannot serve now, not that the command was wrong. */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|NOAUTH|CLUSTERDOWN)\b/

/**
 * Whether an error from the Redis client means the server could not be reached or cannot serve
 * now (a closed or timed-out connection, a server still loading its data), as opposed to a
 * command the server refused, which is a bug to report in full.
 */
export function isUnreachable (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name !== 'ReplyError') return true
  return TRANSIENT_REPLIES.test(error.message)
}

/** The error to throw for what the client threw: StoreUnavailableError if the server was out of reach. */
export function unavailableOr (error: unknown): unknown {
  return isUnreachable(error) ? new StoreUnavailableError((error as Error).message, { cause: error }) : error
}

/** The command's answer, or StoreUnavailableError if the server was out of reach. */
export async function unavailableOnError<Value> (command: Promise<Value>): Promise<Value> {
  try {
    return await command
  } catch (error) {
    throw unavailableOr(error)
  }
}
