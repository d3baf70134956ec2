import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The project's root: the nearest folder above this one with a package.json, so that these helpers
 * find the project's files both from their source (tests) and from their build in dist/ (the bench).
 */
function projectRoot (): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
  }
  throw new Error('no package.json above test/helpers/claude-code')
}

export const PROJECT_ROOT = projectRoot()
