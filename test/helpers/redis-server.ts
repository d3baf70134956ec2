import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { Test } from 'tap'
import { findRedisServer, REDIS_SERVER_MISSING, spawnRedisServer } from '../../bench/redis-server.ts'
import { freePort } from './ports.ts'

const REDIS_SERVER = findRedisServer()

/** Why the tests that need a real Redis cannot run here, or false when they can. */
export const redisMissing: string | false = REDIS_SERVER === undefined
  ? `Redis tests skipped: ${REDIS_SERVER_MISSING} (.ci/run installs it)`
  : false

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** SIGKILL: gone at once, its data with it (it keeps none). */
  kill (): Promise<void>
  /** Starts it again on the same port, empty. */
  restart (): Promise<void>
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause (): void
  /** SIGCONT. */
  resume (): void
}

/** A throwaway redis-server on a free loopback port, with no persistence, killed when the test ends. */
export async function startRedisServer (t: Test): Promise<RedisServer> {
  if (REDIS_SERVER === undefined) throw new Error(REDIS_SERVER_MISSING)
  const path = REDIS_SERVER
  const port = await freePort()
  let child: ChildProcess = await spawnRedisServer(path, port)
  t.teardown(() => { child.kill('SIGKILL') })
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill () {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
    async restart () {
      child = await spawnRedisServer(path, port)
    },
    pause: () => { child.kill('SIGSTOP') },
    resume: () => { child.kill('SIGCONT') }
  }
}
