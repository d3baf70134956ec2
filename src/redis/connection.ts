import type { RedisOptions } from 'ioredis'
import type { RedisSettings } from './settings.ts'

/**
 * How long a command may go unanswered. Past it the command fails (the API answers 503) and the
 * connection is dropped and made again by the client, so a server that stopped answering
 * (SIGSTOP, a frozen VM) is noticed at the first command, not at the kernel's TCP timeout.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000

/**
 * The client's options for every connection of a replica. What it does well is left to it:
 * TLS for `rediss://`, the password (the URL's, else CC_LIVE_REDIS_PASSWORD), reconnection
 * with its backoff for ever. What this service changes:
 * - a command while disconnected fails at once instead of waiting in a queue, and a command
 *   cut off by a disconnection is not sent again after it: the caller has already answered
 *   for it (a 503 the daemon retries), and a mutation must happen when asked or not at all;
 * - resubscribing is done by the store, which must re-read the state right after.
 */
export function redisClientOptions (settings: RedisSettings): RedisOptions {
  return {
    password: settings.password,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS * 2,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    socketTimeout: REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
    connectionName: 'cc-live'
  }
}
