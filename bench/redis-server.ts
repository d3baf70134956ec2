import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Debian's redis-server, if installed; /usr/sbin is not on every user's PATH. */
export function findRedisServer (): string | undefined {
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

export const REDIS_SERVER_MISSING = 'no redis-server on PATH; install it with: apt-get install redis-server'

/**
 * A redis-server on 127.0.0.1:`port` that keeps nothing on disk (no RDB, no AOF); resolves once it
 * accepts connections, rejects if it exits first.
 */
export async function spawnRedisServer (path: string, port: number): Promise<ChildProcess> {
  const child = spawn(path, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'], { stdio: ['ignore', 'pipe', 'pipe'] })
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
  // Nothing more is read: let the pipes drain so the server never blocks on a full one.
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}
