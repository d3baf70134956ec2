import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from './ports.js'

/** Debian's redis-server, if installed; /usr/sbin is not on every user's PATH. */
function findRedisServer (): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin']
  return dirs.map((dir) => join(dir, 'redis-server')).find((path) => {
    try {
      accessSync(path, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

const REDIS_SERVER = findRedisServer()

/** Why the tests that need a real Redis cannot run here, or false when they can. */
export const redisMissing: string | false = REDIS_SERVER === undefined
  ? 'Redis tests skipped: no redis-server on PATH; enable them with: apt-get install redis-server (.ci/run installs it)'
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

/**
 * A throwaway redis-server on a free loopback port, with no persistence (no RDB, no AOF), killed
 * when the test ends.
 */
export async function startRedisServer (t: Test, extraArguments: string[] = []): Promise<RedisServer> {
  if (REDIS_SERVER === undefined) throw new Error(redisMissing || 'no redis-server')
  const port = await freePort()
  let child: ChildProcess
  const launch = async () => {
    child = spawn(REDIS_SERVER, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', '/tmp', ...extraArguments
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve()
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)))
    })
  }
  await launch()
  t.teardown(() => { child.kill('SIGKILL') })
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill () {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
    restart: launch,
    pause: () => { child.kill('SIGSTOP') },
    resume: () => { child.kill('SIGCONT') }
  }
}
