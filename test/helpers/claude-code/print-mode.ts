import { spawn } from 'node:child_process'
import { CLAUDE_CODE_BIN } from './binary.ts'
import type { ClaudeHome, Cleanup } from './home.ts'

export interface PrintRun {
  readonly pid: number
  /** Resolves when the CLI has exited, with what it printed. */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>
}

/**
 * `claude -p PROMPT [ARGS]` in the home's project directory: one turn, then exit. Killed when the
 * test ends if it is still running.
 */
export function claudePrint (t: Cleanup, home: ClaudeHome, prompt: string, args: string[] = []): PrintRun {
  const child = spawn(CLAUDE_CODE_BIN, ['-p', prompt, ...args], { cwd: home.projectDir, env: home.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  })
  return { pid: child.pid ?? 0, exited }
}
