import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'

const SCRIPTS = fileURLToPath(new URL('../../scripts/cc-live', import.meta.url))

/** The events event.sh handles, in the order install.sh adds them. */
const STATUS_EVENTS = ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PermissionRequest', 'Notification', 'Stop', 'StopFailure', 'SubagentStart', 'PreCompact']

/** PreToolUse hooks: the tools each matcher picks and the verb it hands event.sh, every other tool last. */
const TOOL_HOOKS = [
  ['Edit|Write|MultiEdit|NotebookEdit', 'editing'], ['Read|Glob|Grep|LS', 'reading'], ['Bash', "'running commands'"],
  ['WebFetch|WebSearch', 'browsing'], ['Task|Agent', 'delegating'], ['TodoWrite', 'planning'],
  ['^(?!(Edit|Write|MultiEdit|NotebookEdit|Read|Glob|Grep|LS|Bash|WebFetch|WebSearch|Task|Agent|TodoWrite)$)', "'using tools'"]
] as const

interface Group { matcher?: string, hooks: Array<{ type: string, command: string, timeout?: number }> }

/**
 * The groups install.sh adds, by event: start.sh and stop.sh run by their paths; event.sh sourced,
 * told its event and, for a tool, its verb (`=`: the one before), unless it is gone.
 */
const ours = (scripts = SCRIPTS, quote = ''): Record<string, Group[]> => {
  const path = (script: string): string => `${quote}${scripts}/${script}${quote}`
  const group = (command: string, matcher?: string): Group =>
    ({ ...(matcher === undefined ? {} : { matcher }), hooks: [{ type: 'command', command, timeout: 5 }] })
  const status = (event: string, verb?: string): string =>
    `[ ! -f ${path('event.sh')} ] || cc_live_here=${quote}${scripts}${quote} cc_live_event=${event}${verb === undefined ? '' : ` cc_live_verb=${verb}`} . ${path('event.sh')}`
  return {
    SessionStart: [group(path('start.sh'))],
    SessionEnd: [group(path('stop.sh'))],
    ...Object.fromEntries(STATUS_EVENTS.map((event) => [event, [group(status(event, ['PostToolUse', 'PostToolUseFailure', 'PermissionRequest'].includes(event) ? "'='" : undefined))]])),
    PreToolUse: TOOL_HOOKS.map(([matcher, verb]) => group(status('PreToolUse', verb), matcher))
  }
}

/** What an install.sh before this one added: every script run by its path, for each event. */
const older = (scripts = SCRIPTS): Record<string, Group[]> => Object.fromEntries(['SessionStart', 'SessionEnd', ...STATUS_EVENTS].map((event) =>
  [event, [{ hooks: [{ type: 'command', command: `${scripts}/${event === 'SessionStart' ? 'start' : event === 'SessionEnd' ? 'stop' : 'event'}.sh`, timeout: 5 }] }]]))

/** Settings a Claude Code user already has: hooks of their own for the same events and others. */
const EXISTING = {
  model: 'opus',
  permissions: { allow: ['Bash(npm test)'], deny: [] },
  hooks: {
    SessionStart: [{ matcher: 'startup', hooks: [{ type: 'command', command: 'echo "$CLAUDE_PROJECT_DIR"' }] }],
    SessionEnd: [{ hooks: [{ type: 'command', command: '~/bin/log-session.sh', timeout: 5 }] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: '~/bin/guard.sh' }] }]
  },
  statusLine: { type: 'command', command: '~/bin/status.sh' }
}

/** EXISTING once our hooks are installed: ours after the ones already there, for every event. */
const WITH_OURS = {
  ...EXISTING,
  hooks: {
    ...ours(),
    SessionStart: [...EXISTING.hooks.SessionStart, ...ours().SessionStart!],
    SessionEnd: [...EXISTING.hooks.SessionEnd, ...ours().SessionEnd!],
    PreToolUse: [...EXISTING.hooks.PreToolUse, ...ours().PreToolUse!]
  }
}

async function home (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-live-install-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function install (args: string[], env: Record<string, string | undefined> = {}, script = join(SCRIPTS, 'install.sh')) {
  const result = spawnSync('sh', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'))

t.test('install and uninstall round trip keeps every other setting and hook', async (t) => {
  const file = join(await home(t), 'settings.json')
  const original = JSON.stringify(EXISTING) // compact, unlike what install writes
  writeFileSync(file, original)
  chmodSync(file, 0o640)

  const installed = install([file])
  t.equal(installed.status, 0)
  t.match(installed.stdout, `${file}: cc-live hooks added (backup: ${file}.cc-live.bak)`)
  t.same(readJson(file), WITH_OURS, 'our hooks come after the ones already there, one for every event')

  t.equal(readFileSync(`${file}.cc-live.bak`, 'utf8'), original, 'the backup is the file as it was')
  t.equal(statSync(file).mode & 0o777, 0o640, 'the mode is kept')

  const afterOnce = readFileSync(file, 'utf8')
  const again = install([file])
  t.equal(again.status, 0)
  t.match(again.stdout, 'already installed')
  t.equal(readFileSync(file, 'utf8'), afterOnce, 'a second install changes nothing')

  const removed = install(['--uninstall', file])
  t.equal(removed.status, 0)
  t.match(removed.stdout, 'cc-live hooks removed')
  t.same(readJson(file), EXISTING, 'uninstall leaves exactly what was there')
  t.match(install(['--uninstall', file]).stdout, 'already absent')
})

t.test("without an argument it edits Claude Code's user settings, creating them if need be", async (t) => {
  const dir = await home(t)
  const file = join(dir, '.claude', 'settings.json')
  t.equal(install([], { HOME: dir, CLAUDE_CONFIG_DIR: undefined }).status, 0)
  t.same(readJson(file), { hooks: ours() })
  t.notOk(existsSync(`${file}.cc-live.bak`), 'nothing to back up')
  t.equal(install(['--uninstall'], { HOME: dir, CLAUDE_CONFIG_DIR: undefined }).status, 0)
  t.same(readJson(file), {}, 'what install created is gone again')

  const configDir = join(dir, 'elsewhere')
  t.equal(install([], { HOME: dir, CLAUDE_CONFIG_DIR: configDir }).status, 0)
  t.ok(existsSync(join(configDir, 'settings.json')), 'CLAUDE_CONFIG_DIR moves the settings, as it does for Claude Code')
})

t.test('a file that is not valid JSON, or not settings, is refused and left untouched', async (t) => {
  const file = join(await home(t), 'settings.json')
  const cases = {
    'broken JSON': ['{"model": "opus",', /not valid JSON/],
    'an array': ['[]', /not a JSON object/],
    'hooks that are a list': ['{"hooks": []}', /"hooks" is not in the form Claude Code uses/],
    'an event that is an object': ['{"hooks": {"SessionStart": {}}}', /"hooks" is not in the form Claude Code uses/]
  } as const
  for (const [name, [content, message]] of Object.entries(cases)) {
    writeFileSync(file, content)
    for (const args of name === 'broken JSON' ? [[file], ['--uninstall', file]] : [[file]]) {
      const result = install(args)
      t.equal(result.status, 1, `${name}: ${args.join(' ')} fails`)
      t.match(result.stderr, message, `${name}: says why`)
      t.match(result.stderr, 'nothing changed')
      t.equal(readFileSync(file, 'utf8'), content, `${name}: untouched`)
      t.notOk(existsSync(`${file}.cc-live.bak`), `${name}: no backup made`)
    }
  }
})

t.test('scripts in a directory with a space get a quoted command that the shell runs', async (t) => {
  const dir = await home(t)
  const scripts = join(dir, 'my tools', 'cc-live')
  cpSync(SCRIPTS, scripts, { recursive: true })
  const file = join(dir, 'settings.json')
  t.equal(install([file], {}, join(scripts, 'install.sh')).status, 0)
  const settings = readJson(file) as { hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>> }
  t.same(settings.hooks, ours(scripts, "'"))
  for (const event of ['SessionStart', 'SessionEnd', 'PreToolUse']) {
    const command = settings.hooks[event]![0]!.hooks[0]!.command
    const run = spawnSync('sh', ['-c', command], { encoding: 'utf8', env: { PATH: process.env.PATH }, input: '' })
    t.equal(run.status, 0, `${event}: sh -c runs ${command}`)
  }
})

t.test('without python3 it prints the snippet to paste and changes nothing', async (t) => {
  const dir = await home(t)
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  for (const tool of ['sh', 'dirname', 'cat']) {
    symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool))
  }
  const file = join(dir, 'settings.json')
  writeFileSync(file, '{}')
  const result = install([file], { PATH: bin })
  t.equal(result.status, 1)
  t.match(result.stdout, 'python3 is not available')
  t.equal(readFileSync(file, 'utf8'), '{}', 'untouched')
  const snippet = result.stdout.slice(result.stdout.indexOf('"SessionStart"'))
  t.same(JSON.parse(`{${snippet}}`), ours(), 'the snippet is the JSON install would have added')
  const check = install(['--check', file], { PATH: bin })
  t.equal(check.status, 3, '--check cannot tell without python3')
  t.match(check.stderr, 'python3 is not available')
})

t.test('--check: 0 when every hook is there, 1 naming the events without one; it changes nothing', async (t) => {
  const file = join(await home(t), 'settings.json')
  const missingFile = install(['--check', file])
  t.equal(missingFile.status, 1, 'no settings file')
  t.match(missingFile.stderr, 'no cc-live hook is installed')
  t.notOk(existsSync(file), 'and none is made')

  // What an install before the status hooks left: SessionStart and SessionEnd only.
  const before = { hooks: { SessionStart: ours().SessionStart, SessionEnd: ours().SessionEnd } }
  writeFileSync(file, JSON.stringify(before))
  const partial = install(['--check', file])
  t.equal(partial.status, 1, 'only some hooks')
  t.match(partial.stderr, `cc-live hooks missing for ${STATUS_EVENTS.join(', ')}`)
  t.same(readJson(file), before, 'unchanged')

  t.equal(install([file]).status, 0, 'install adds the missing ones')
  t.same(readJson(file), { hooks: ours() }, 'each once')
  const complete = install(['--check', file])
  t.equal(complete.status, 0, 'all there')
  t.match(complete.stdout, `cc-live hooks installed for all ${STATUS_EVENTS.length + 2} events`)

  writeFileSync(file, '{"hooks": []}')
  const broken = install(['--check', file])
  t.equal(broken.status, 1, 'settings not in the form Claude Code uses')
  t.match(broken.stderr, '"hooks" is not in the form Claude Code uses')
  t.notMatch(broken.stderr, 'nothing changed', '--check never changes anything, and does not say it')
})

t.test('an install by an older install.sh is out of date: install replaces its hooks, uninstall removes them', async (t) => {
  const file = join(await home(t), 'settings.json')
  const existing: Record<string, Group[]> = EXISTING.hooks
  const withOlder = { ...EXISTING, hooks: { ...existing, ...Object.fromEntries(Object.entries(older()).map(([event, groups]) => [event, [...existing[event] ?? [], ...groups]])) } }
  writeFileSync(file, JSON.stringify(withOlder))
  const check = install(['--check', file])
  t.equal(check.status, 1, '--check fails')
  t.match(check.stderr, 'cc-live hooks missing for UserPromptSubmit, PreToolUse,', 'naming what is missing: the status events')
  t.notMatch(check.stderr, 'SessionStart', 'not SessionStart, whose hook is as it was')
  t.same(readJson(file), withOlder, '--check changes nothing')

  t.equal(install([file]).status, 0)
  t.same(readJson(file), WITH_OURS, 'the older hooks are gone, the current ones there once, the user\'s own kept')
  t.equal(install(['--check', file]).status, 0, 'up to date')

  writeFileSync(file, JSON.stringify(withOlder))
  t.equal(install(['--uninstall', file]).status, 0)
  t.same(readJson(file), EXISTING, 'uninstall removes the older hooks too')

  const stale = { hooks: { ...ours(), SubagentStop: older().Stop } }
  writeFileSync(file, JSON.stringify(stale))
  const staleCheck = install(['--check', file])
  t.equal(staleCheck.status, 1, 'a hook of ours that install.sh no longer adds')
  t.match(staleCheck.stderr, 'cc-live hooks out of date for SubagentStop (from an older install.sh)')
  t.equal(install([file]).status, 0)
  t.same(readJson(file), { hooks: ours() }, 'install removes it')
})

t.test('an installed status hook whose event.sh is gone exits 0 and prints nothing: Claude Code would take the shell\'s status 2 as "block the tool"', async (t) => {
  const dir = await home(t)
  const scripts = join(dir, 'cc-live')
  cpSync(SCRIPTS, scripts, { recursive: true })
  const file = join(dir, 'settings.json')
  t.equal(install([file], {}, join(scripts, 'install.sh')).status, 0)
  rmSync(join(scripts, 'event.sh'))
  const settings = readJson(file) as { hooks: Record<string, Group[]> }
  for (const event of STATUS_EVENTS) {
    for (const { hooks: [hook] } of settings.hooks[event]!) {
      const run = spawnSync('sh', ['-c', hook!.command], { encoding: 'utf8', env: { PATH: process.env.PATH }, input: '{}' })
      t.same({ status: run.status, stdout: run.stdout, stderr: run.stderr }, { status: 0, stdout: '', stderr: '' }, `${event}: ${hook!.command}`)
    }
  }
})
