import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({ ts: true, ignores: resolveIgnoresFromGitignore() }),
  ...tseslint.configs.recommended,
  // Browser code: tsc checks its names against the DOM lib (tsconfig.client.json).
  { files: ['client/**'], rules: { 'no-undef': 'off' } }
]
