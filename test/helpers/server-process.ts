import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/src/server.js', import.meta.url))

export interface ServerProcess {
  child: ChildProcess
  port: number
  /** Everything the process has written to stdout and stderr so far. */
  output (): string
  /** Resolves once everything written so far satisfies `done`. */
  outputUntil (done: (output: string) => boolean): Promise<void>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Runs the built server (what `npm start` runs) on a free port; resolves once it listens. */
export async function startServer (t: Test, env: Record<string, string>): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run npm run build`)
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let output = ''
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })))
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match) resolve(Number(match[1]))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    exited.then(({ code }) => reject(new Error(`server exited with ${code} before listening:\n${output}`)), reject)
  })
  const outputUntil = (done: (output: string) => boolean) => new Promise<void>((resolve) => {
    const look = () => {
      if (!done(output)) return
      child.stdout?.off('data', look)
      child.stderr?.off('data', look)
      resolve()
    }
    // Added after onData, so `output` already holds the chunk each time this looks.
    child.stdout?.on('data', look)
    child.stderr?.on('data', look)
    look()
  })
  return { child, port, output: () => output, outputUntil, exited }
}
