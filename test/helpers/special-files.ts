import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import type { Test } from 'tap'

/** Makes a FIFO (named pipe) at path: Node has no mkfifo, coreutils does. */
export async function makeFifo (path: string): Promise<void> {
  await promisify(execFile)('mkfifo', [path])
}

/** Binds a Unix socket at path, closed when the test ends. */
export async function makeSocket (t: Test, path: string): Promise<void> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
}
