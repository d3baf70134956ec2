import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { PROJECT_ROOT } from './project.ts'

const INSTALL = join(PROJECT_ROOT, 'scripts', 'cc-live', 'install.sh')

/** Any key of the API key's shape; the fake API accepts anything. */
const FAKE_API_KEY = 'sk-ant-api03-cc-live-fake-key-for-offline-tests-0123456789abcdefghij'

/** Whatever runs the CLI and cleans up after it: a tap test, or the bench. */
export type Cleanup = Pick<Test, 'teardown'>

export interface ClaudeHomeOptions {
  /** The fake Messages API's base URL. */
  apiUrl: string
  /**
   * The cc-live service the hooks post to, and how: these become the hooks' environment. `share` is
   * CC_LIVE_SHARE; `project` maps the project directory to that public name in the projects file.
   */
  ccLive: { endpoint: string, apiKey: string, intervalSeconds: number, share?: string, project?: string }
  /** Whether to install cc-live's hooks in the user settings, with scripts/cc-live/install.sh (default true). */
  hooks?: boolean
}

export interface ClaudeHome {
  home: string
  /** The trusted project directory sessions run in. */
  projectDir: string
  /** Where the hooks keep their pid files and log. */
  stateDir: string
  /** The environment to run `claude` in, and so its hooks. */
  env: Record<string, string>
  /** The hooks' log, or '' before the first line. */
  log (): string
}

/**
 * A throwaway HOME in which the real Claude Code starts offline, straight into a session: onboarding
 * done, the API key approved, the project directory trusted, and cc-live's hooks installed the way
 * the README tells users to. Processes its hooks leave behind (heartbeat loops, detached stops) are
 * killed, and the directory removed, when the test ends.
 */
export async function claudeHome (t: Cleanup, { apiUrl, ccLive, hooks = true }: ClaudeHomeOptions): Promise<ClaudeHome> {
  // realpath: Claude Code keys the trusted projects by the resolved directory.
  const home = await realpath(await mkdtemp(join(tmpdir(), 'cc-live-claude-')))
  const xdg = { XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), XDG_DATA_HOME: join(home, '.local', 'share'), XDG_STATE_HOME: join(home, '.local', 'state') }
  const projectDir = join(home, 'project')
  await mkdir(projectDir)
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    SHELL: '/bin/bash',
    ...xdg,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    // Nothing but the fake API: no telemetry, error reports, update checks or other calls home.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    NO_PROXY: '127.0.0.1,localhost',
    CC_LIVE_ENDPOINT: ccLive.endpoint,
    CC_LIVE_API_KEY: ccLive.apiKey,
    CC_LIVE_INTERVAL_SECONDS: String(ccLive.intervalSeconds),
    ...(ccLive.share === undefined ? {} : { CC_LIVE_SHARE: ccLive.share })
  }
  t.teardown(async () => {
    await killLeftovers(xdg.XDG_STATE_HOME)
    await rm(home, { recursive: true, force: true })
  })

  await writeFile(join(home, '.claude.json'), JSON.stringify({
    hasCompletedOnboarding: true,
    theme: 'dark',
    customApiKeyResponses: { approved: [FAKE_API_KEY.slice(-20)], rejected: [] },
    projects: { [projectDir]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } }
  }))
  // Newer releases default to "auto" mode, where a classifier answers permission prompts, and offer
  // it in a dialog at start-up: tests want neither, but the prompt itself.
  await mkdir(join(home, '.claude'))
  await writeFile(join(home, '.claude', 'settings.json'), JSON.stringify({ disableAutoMode: 'disable', permissions: { defaultMode: 'default' } }))
  if (hooks) await promisify(execFile)(INSTALL, [], { env })
  if (ccLive.project !== undefined) {
    await mkdir(join(xdg.XDG_CONFIG_HOME, 'cc-live'), { recursive: true })
    await writeFile(join(xdg.XDG_CONFIG_HOME, 'cc-live', 'projects'), `${projectDir} = ${ccLive.project}\n`)
  }

  const stateDir = join(xdg.XDG_STATE_HOME, 'cc-live')
  return {
    home,
    projectDir,
    stateDir,
    env,
    log: () => readText(join(stateDir, 'cc-live.log'))
  }
}

function readText (path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** Processes started with this HOME's state directory in their environment: what its hooks left running. */
function leftovers (stateHome: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name))
    .filter((pid) => readText(`/proc/${pid}/environ`).split('\0').includes(`XDG_STATE_HOME=${stateHome}`))
    .map(Number)
}

/** Kills them until two looks in a row find none: a process in the middle of an exec shows no environment for a moment. */
async function killLeftovers (stateHome: string): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    const found = leftovers(stateHome)
    for (const pid of found) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    quiet = found.length === 0 ? quiet + 1 : 0
    await delay(20)
  }
}
