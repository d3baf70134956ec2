import { readFileSync } from 'node:fs'

export interface Instruction {
  keyword: string
  /** Leading `--name=value` flags, such as COPY's --from or RUN's --mount. */
  flags: Record<string, string>
  /** What follows the keyword and flags, continuation lines joined. */
  rest: string
}

export interface Stage {
  name: string
  image: string
  instructions: Instruction[]
}

const FLAG = /^--([a-z-]+)=(\S+)\s*/

/** Parses the Containerfile subset this project uses: comments, `\` continuations, ARG defaults in FROM. */
export function parseContainerfile (path: string): Stage[] {
  const logicalLines = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  const args: Record<string, string> = {}
  const stages: Stage[] = []
  for (const line of logicalLines) {
    const [, keyword = '', afterKeyword = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    let rest = afterKeyword
    const flags: Record<string, string> = {}
    for (let flag = FLAG.exec(rest); flag !== null; flag = FLAG.exec(rest)) {
      flags[flag[1] ?? ''] = flag[2] ?? ''
      rest = rest.slice(flag[0].length)
    }
    const upper = keyword.toUpperCase()
    const stage = stages.at(-1)
    if (upper === 'FROM') {
      const [image = '', , name = String(stages.length)] = rest.replace(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? '').split(/\s+/)
      stages.push({ name, image, instructions: [] })
    } else if (stage === undefined && upper === 'ARG') {
      const [arg = '', value = ''] = rest.split('=')
      args[arg] = value
    } else if (stage === undefined) {
      throw new Error(`${upper} before the first FROM`)
    } else {
      stage.instructions.push({ keyword: upper, flags, rest })
    }
  }
  return stages
}

export function stageNamed (stages: Stage[], name: string): Stage {
  const stage = stages.find((candidate) => candidate.name === name)
  if (stage === undefined) throw new Error(`no stage named ${name}`)
  return stage
}

export function instructionsOf (stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword)
}

/** COPY's sources and destination, from either the JSON or the shell form. */
export function copyPaths (instruction: Instruction): { sources: string[], destination: string } {
  const paths = execArguments(instruction.rest)
  return { sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' }
}

/** The argument vector of an exec-form (JSON array) CMD or HEALTHCHECK CMD, or the words of a shell form. */
export function execArguments (rest: string): string[] {
  const command = rest.replace(/^CMD\s+/, '')
  return command.startsWith('[') ? JSON.parse(command) as string[] : command.split(/\s+/)
}

/** ENV instructions of a stage, as the environment they set. */
export function stageEnvironment (stage: Stage): Record<string, string> {
  return Object.fromEntries(instructionsOf(stage, 'ENV').map((instruction) => {
    const [name = '', ...value] = instruction.rest.split('=')
    return [name, value.join('=')]
  }))
}

/** Reads a .containerignore into a predicate: does the build context leave this path out? */
export function contextIgnores (ignoreFile: string): (path: string) => boolean {
  const rules = readFileSync(ignoreFile, 'utf8').split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!')
      const pattern = line.slice(include ? 1 : 0).replace(/^\/+|\/+$/g, '')
      const source = pattern.split(/(\*\*|\*|\?)/).map((part) =>
        part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')
      ).join('')
      return { include, regex: new RegExp(`^${source}$`) }
    })
  // As in Docker and Buildah: the last matching rule wins, and a rule matching a directory covers its contents.
  return (path) => {
    const segments = path.replace(/^\.?\/+/, '').split('/')
    const prefixes = segments.map((_, index) => segments.slice(0, index + 1).join('/'))
    let ignored = false
    for (const rule of rules) {
      if (prefixes.some((prefix) => rule.regex.test(prefix))) ignored = !rule.include
    }
    return ignored
  }
}
