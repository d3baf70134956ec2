import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({ ts: true, ignores: resolveIgnoresFromGitignore() }),
  ...tseslint.configs.recommended
]
