import { accessSync, constants, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT } from './project.ts'

/**
 * Where the real Claude Code CLI is: `CLAUDE_CODE_BIN`, or the pinned version that
 * `npm run install:claude-code` puts in the user's cache, outside the project's lockfile (its native
 * binary is about 400 MB). The version and that folder are named in package.json's `config` and
 * that script; keep the folder's name in step with it.
 */
const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  config: { claudeCodeVersion: string }
}

export const CLAUDE_CODE_VERSION = packageJson.config.claudeCodeVersion

const cacheHome = process.env.XDG_CACHE_HOME?.startsWith('/') === true ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache')

export const CLAUDE_CODE_BIN = process.env.CLAUDE_CODE_BIN ??
  join(cacheHome, 'cc-live', `claude-code-${CLAUDE_CODE_VERSION}`, 'node_modules', '.bin', 'claude')

function executable (path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Why the tests with the real CLI cannot run here, or null when they can. */
export const claudeCodeMissing: string | null = executable(CLAUDE_CODE_BIN)
  ? null
  : `real Claude Code tests skipped: no Claude Code at ${CLAUDE_CODE_BIN}; enable them with: npm run install:claude-code`
