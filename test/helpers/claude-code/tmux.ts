import { execFile } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { CLAUDE_CODE_BIN } from './binary.ts'
import type { ClaudeHome } from './home.ts'

const run = promisify(execFile)
let sessions = 0

/** How often the screen is looked at while waiting for text on it: no event says it changed. */
const POLL_MS = 50
/** The question of Claude Code's permission prompt. */
export const PERMISSION_PROMPT = 'Do you want to proceed?'
/** How long a refused Enter leaves the prompt up before it is pressed again. */
const PROMPT_REFUSED_MS = 500

export interface InteractiveClaude {
  /** The CLI's process id. */
  readonly pid: number
  /** Types keys as tmux's send-keys takes them: literal text, or key names such as Enter, Escape, C-d. */
  keys (...keys: string[]): Promise<void>
  /** Types a line (a prompt or a slash command) and presses Enter. */
  line (text: string): Promise<void>
  /** The visible screen, as text. */
  screen (): Promise<string>
  /** Resolves once the screen shows `pattern` (or satisfies it); fails after `timeoutMs` with the screen in the message. */
  waitFor (pattern: string | RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<string>
  /** Answers the permission prompt on the screen with its preselected "1. Yes". */
  approve (timeoutMs?: number): Promise<void>
  /** Resolves once the CLI process has exited (the pane stays, so its end can be seen). */
  waitForExit (timeoutMs?: number): Promise<void>
}

/**
 * An interactive `claude` in a terminal: a tmux server of its own (`tmux -L`), one session sized
 * like a laptop's terminal, started in the home's project directory with its environment. The pane
 * stays after the CLI exits; the whole server is killed when the test ends.
 */
export async function claudeInteractive (t: Test, home: ClaudeHome, args: string[] = []): Promise<InteractiveClaude> {
  const socket = `cc-live-${process.pid}-${++sessions}`
  const tmux = (...command: string[]) => run('tmux', ['-L', socket, '-f', '/dev/null', ...command], { env: home.env })
  t.teardown(() => tmux('kill-server').catch(() => {}))
  const command = [CLAUDE_CODE_BIN, ...args].map(shellQuote).join(' ')
  await tmux('new-session', '-d', '-s', 'claude', '-x', '160', '-y', '45', '-c', home.projectDir, `exec ${command}`, ';',
    'set-option', '-t', 'claude', 'remain-on-exit', 'on')
  const display = async (format: string): Promise<string> => (await tmux('display-message', '-p', '-t', 'claude', format)).stdout.trim()
  const pid = Number(await display('#{pane_pid}'))
  const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', 'claude')).stdout

  async function poll<T> (what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = await check()
      if (found !== undefined) return found
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${await screen()}`)
      await delay(POLL_MS)
    }
  }

  function waitFor (pattern: string | RegExp | ((screen: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const shows = typeof pattern === 'function' ? pattern : typeof pattern === 'string' ? (text: string) => text.includes(pattern) : (text: string) => pattern.test(text)
    return poll(`${String(pattern)} on the screen`, timeoutMs, async () => {
      const text = await screen()
      return shows(text) ? text : undefined
    })
  }

  const keys = async (...keys: string[]): Promise<void> => { await tmux('send-keys', '-t', 'claude', ...keys) }

  return {
    pid,
    keys,
    // Literal (-l), so text that names a key ("Enter") is typed as text; then the key itself.
    line: async (text) => {
      await keys('-l', text)
      await keys('Enter')
    },
    screen,
    waitFor,
    // The CLI refuses keys typed within a moment of a dialog opening, as stray: press Enter until the prompt has gone.
    approve: (timeoutMs = 10_000) => poll('the permission prompt to close', timeoutMs, async () => {
      await keys('Enter')
      return waitFor((text) => !text.includes(PERMISSION_PROMPT), PROMPT_REFUSED_MS).then(() => true, () => undefined)
    }).then(() => {}),
    waitForExit: (timeoutMs = 10_000) => poll('the CLI to exit', timeoutMs, async () =>
      await display('#{pane_dead}') === '1' ? true : undefined).then(() => {})
  }
}

function shellQuote (word: string): string {
  return /^[\w./:=@-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}
