import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'

const SCRIPTS = fileURLToPath(new URL('../../scripts/cc-live', import.meta.url))

/** The events event.sh handles, in the order install.sh adds them. */
const STATUS_EVENTS = ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PermissionRequest', 'Notification', 'Stop', 'StopFailure', 'SubagentStart', 'PreCompact']

/** The group install.sh adds for each event. */
const ours = (scripts = SCRIPTS, quote = ''): Record<string, { hooks: Array<{ type: string, command: string, timeout: number }> }> => {
  const entry = (script: string) => ({ hooks: [{ type: 'command', command: `${quote}${scripts}/${script}${quote}`, timeout: 5 }] })
  return {
    SessionStart: entry('start.sh'),
    SessionEnd: entry('stop.sh'),
    ...Object.fromEntries(STATUS_EVENTS.map((event) => [event, entry('event.sh')]))
  }
}

/** Our groups as the only entries of each event's list. */
const onlyOurs = (scripts = SCRIPTS, quote = '') => Object.fromEntries(Object.entries(ours(scripts, quote)).map(([event, group]) => [event, [group]]))

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
  t.same(readJson(file), {
    ...EXISTING,
    hooks: {
      ...onlyOurs(),
      SessionStart: [...EXISTING.hooks.SessionStart, ours().SessionStart],
      SessionEnd: [...EXISTING.hooks.SessionEnd, ours().SessionEnd],
      PreToolUse: [...EXISTING.hooks.PreToolUse, ours().PreToolUse]
    }
  }, 'our hooks come after the ones already there, one for every event')
  t.same(Object.values(ours()).map((group) => group.hooks[0]!.timeout), Object.values(ours()).map(() => 5), 'each with a short timeout')
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
  t.same(readJson(file), { hooks: onlyOurs() })
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
  t.same(settings.hooks, onlyOurs(scripts, "'"))
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
  t.same(JSON.parse(`{${snippet}}`), onlyOurs(), 'the snippet is the JSON install would have added')
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
  const before = { hooks: { SessionStart: [ours().SessionStart], SessionEnd: [ours().SessionEnd] } }
  writeFileSync(file, JSON.stringify(before))
  const partial = install(['--check', file])
  t.equal(partial.status, 1, 'only some hooks')
  t.match(partial.stderr, `cc-live hooks missing for ${STATUS_EVENTS.join(', ')}`)
  t.same(readJson(file), before, 'unchanged')

  t.equal(install([file]).status, 0, 'install adds the missing ones')
  t.same(readJson(file), { hooks: onlyOurs() }, 'each once')
  const complete = install(['--check', file])
  t.equal(complete.status, 0, 'all there')
  t.match(complete.stdout, `cc-live hooks installed for all ${STATUS_EVENTS.length + 2} events`)

  writeFileSync(file, '{"hooks": []}')
  const broken = install(['--check', file])
  t.equal(broken.status, 1, 'settings not in the form Claude Code uses')
  t.match(broken.stderr, '"hooks" is not in the form Claude Code uses')
  t.notMatch(broken.stderr, 'nothing changed', '--check never changes anything, and does not say it')
})
