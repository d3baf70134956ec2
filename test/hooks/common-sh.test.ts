import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const SCRIPTS = fileURLToPath(new URL('../../scripts/cc-live', import.meta.url))
/** Sources every library the scripts use: common.sh (through session.sh), session.sh and share.sh. */
const LIBRARIES = `cc_live_here=${SCRIPTS}; . "$cc_live_here/session.sh"; . "$cc_live_here/share.sh"`

/** Runs a snippet of sh with the libraries sourced; stdin is the input, or /dev/null for null. */
function shell (snippet: string, input: string | null = null): string {
  const result = spawnSync('sh', ['-c', `${LIBRARIES}; state_dir=/state; ${snippet}`], {
    encoding: 'utf8',
    ...(input === null ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input })
  })
  if (result.status !== 0 || result.stderr !== '') throw new Error(`sh failed: ${result.stderr}`)
  return result.stdout
}

/** The presence, and its pid file, of the session a hook's input names in the Claude Code with pid 4321. */
const presenceOf = (input: string | null): string =>
  shell('read_hook_input; hook_field session_id; owner=4321; set_presence "$hook_value"; printf "%s %s" "$presence" "$pid_file"', input)

t.test('the session id comes out of the hook JSON without a JSON tool, or it is the default session', async (t) => {
  const claudeCode = JSON.stringify({
    session_id: '0f3b2c1e-7a4d-4e8b-9c2f-1d6e5a4b3c2a',
    transcript_path: '/home/dev/.claude/projects/p/0f3b2c1e.jsonl',
    cwd: '/home/dev/blog',
    hook_event_name: 'SessionStart',
    source: 'startup'
  })
  const cases: Array<[string, string | null, string]> = [
    ["Claude Code's input", claudeCode, '0f3b2c1e-7a4d-4e8b-9c2f-1d6e5a4b3c2a'],
    ['pretty-printed, with CRLF and tabs', '{\r\n\t"cwd": "/x",\r\n\t"session_id"\t :\r\n "abc"\r\n}', 'abc'],
    ['without a final newline, after other fields', '{"reason":"clear","session_id":"a.b:c_d-e"}', 'a.b:c_d-e'],
    ['the key quoted inside a value first', JSON.stringify({ cwd: '/tmp/"session_id": "evil"', session_id: 'real' }), 'real'],
    ['a value ending in the key', JSON.stringify({ cwd: '/tmp/"session_id', session_id: 'real' }), 'real'],
    ['every allowed character, as many as fit with the pid: 123', JSON.stringify({ session_id: 'aZ09._:-'.repeat(15) + 'aZ0' }), 'aZ09._:-'.repeat(15) + 'aZ0'],
    ['one more', JSON.stringify({ session_id: 'a'.repeat(124) }), ''],
    ['129 characters', JSON.stringify({ session_id: 'a'.repeat(129) }), ''],
    ['a path', JSON.stringify({ session_id: '../../etc/passwd' }), ''],
    ['a space', JSON.stringify({ session_id: 'a b' }), ''],
    ['an escaped quote', JSON.stringify({ session_id: 'a"b' }), ''],
    ['a unicode escape', '{"session_id":"\\u0061bc"}', ''],
    ['an empty id', '{"session_id":""}', ''],
    ['a number', '{"session_id":42}', ''],
    ['no session_id', '{"hook_event_name":"SessionStart"}', ''],
    ['text that is not JSON', 'hello', ''],
    ['empty stdin', '', ''],
    ['no stdin', null, '']
  ]
  for (const [name, input, session] of cases) {
    t.equal(presenceOf(input), `${session}:4321 /state/${session}:4321.pid`, name)
  }
  t.equal(presenceOf('{"session_id":".."}'), '..:4321 /state/..:4321.pid', 'a dot id stays a file name inside the state directory')
  t.equal(shell('read_hook_input; hook_field reason; echo "$hook_value"', JSON.stringify({ session_id: 'a', hook_event_name: 'SessionEnd', reason: 'clear' })),
    'clear\n', 'the reason of a SessionEnd')
})

t.test('a script argument names a presence only as set_presence makes one', async (t) => {
  const cases: Array<[string, string]> = [
    ['abc:12', 'abc:12 owner=12 /state/abc:12.ending'],
    ['a:b:12', 'a:b:12 owner=12 /state/a:b:12.ending'],
    [':12', ':12 owner=12 /state/:12.ending'],
    ['abc', 'refused'],
    ['abc:', 'refused'],
    ['abc:1x', 'refused'],
    ['a b:12', 'refused'],
    ['../x:12', 'refused'],
    [`${'a'.repeat(126)}:12`, 'refused']
  ]
  for (const [name, expected] of cases) {
    t.equal(shell(`set_presence_from_name '${name}' && echo "$presence owner=$owner $ending_file" || echo refused`), `${expected}\n`, name)
  }
})

t.test('ps tells the same as /proc: parent, name, arguments, and an unreaped child is not alive', async (t) => {
  // The sh execs sleep 30 after starting a short sleep it never waits for: that one becomes a zombie.
  const parent = spawn('sh', ['-c', 'sleep 0.01 & exec sleep 30'], { stdio: 'ignore' })
  t.teardown(() => parent.kill())
  await once(parent, 'spawn')
  const children = (): number[] => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /, '').split(' ')[1] === String(parent.pid)
    } catch {
      return false
    }
  }).map(Number)
  let zombie: number | undefined
  while (zombie === undefined) {
    zombie = children().find((pid) => / Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1')))
    await delay(10)
  }

  const look = (source: string): string => shell(`proc_source=${source}
    proc_info ${parent.pid} && echo "parent=$proc_ppid name=$proc_comm args=$(proc_args ${parent.pid})"
    proc_alive ${parent.pid} && echo "sleep 30 is alive"
    proc_alive ${zombie} || echo "the zombie is not"
    proc_info 0 || echo "no process 0"`)
  const expected = `parent=${process.pid} name=sleep args=sleep 30\nsleep 30 is alive\nthe zombie is not\nno process 0\n`
  t.equal(look('procfs').replace(/ \n/, '\n'), expected, 'from /proc')
  t.equal(look('ps'), expected, 'from ps')
})

t.test("the owner is the hook's first ancestor that is not a shell: Claude Code, past its `sh -c`", async (t) => {
  t.equal(shell('find_owner; echo "$owner"'), `${process.pid}\n`, 'run by this process directly')
  const nested = spawnSync('sh', ['-c', 'sh -c \'. "$1/common.sh"; find_owner; echo "$owner"\' sh "$0"; true', SCRIPTS], { encoding: 'utf8' })
  t.equal(nested.stdout, `${process.pid}\n`, 'through a shell that stays in between')
})

t.test('Claude Code 2.1 names the session, itself and the directory: hook_session then reads no JSON', async (t) => {
  const json = JSON.stringify({ session_id: 'from-json', cwd: '/from/json', hook_event_name: 'Stop' })
  const session = (env: Record<string, string>): string => {
    const result = spawnSync('sh', ['-c', `${LIBRARIES}; state_dir=/state; hook_session; printf '%s|%s|%s|%s' "$presence" "$spawned" "$session_cwd" "\${hook_input_read:-unread}"`],
      { encoding: 'utf8', input: json, cwd: tmpdir(), env: { PATH: process.env.PATH, ...env } })
    return result.stdout
  }
  const self = String(process.pid)
  t.match(session({ CLAUDE_CODE_SESSION_ID: 'from-env', CLAUDE_PID: self }), new RegExp(`^from-env:${self}\\|\\d+\\|${tmpdir()}\\|unread$`),
    'the id from the environment, the owner its parent, the directory its own; stdin left unread')
  t.match(session({}), new RegExp(`^from-json:${self}\\|\\d+\\|/from/json\\|1$`), 'without them, all from the JSON')
  t.match(session({ CLAUDE_CODE_SESSION_ID: 'from-env', CLAUDE_PID: '1' }), new RegExp(`^from-env:${self}\\|`),
    'a CLAUDE_PID that is not the parent (a shell in between, or inherited): the owner is looked up')
})

/** Runs a snippet with the libraries sourced in the given shell, with a time limit: a write that blocks fails. */
function inShell (shell: string, snippet: string, env: Record<string, string> = {}): string {
  const result = spawnSync(shell, ['-c', `${LIBRARIES}; ${snippet}`], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 5000 })
  if (result.status !== 0 || result.stderr !== '') throw new Error(`${shell} failed (${result.status ?? result.signal}): ${result.stderr}`)
  return result.stdout
}

const SHELLS = ['dash', 'bash']

t.test('only a real directory of the user that no one else can write is a state directory, in dash and bash', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-live-common-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cases: Record<string, [() => string, boolean]> = {
    private: [() => { mkdirSync(join(dir, 'private'), { mode: 0o700 }); return 'private' }, true],
    'readable by others': [() => { mkdirSync(join(dir, 'readable')); chmodSync(join(dir, 'readable'), 0o755); return 'readable' }, true],
    'writable by the group': [() => { mkdirSync(join(dir, 'group')); chmodSync(join(dir, 'group'), 0o770); return 'group' }, false],
    'writable by others': [() => { mkdirSync(join(dir, 'others')); chmodSync(join(dir, 'others'), 0o703); return 'others' }, false],
    'a symlink to a private directory': [() => { symlinkSync('private', join(dir, 'link')); return 'link' }, false],
    'a file': [() => { writeFileSync(join(dir, 'file'), ''); return 'file' }, false],
    missing: [() => 'missing', false]
  }
  if (process.getuid?.() === 0) {
    cases['owned by another user'] = [() => { mkdirSync(join(dir, 'theirs'), { mode: 0o700 }); chownSync(join(dir, 'theirs'), 65534, 65534); return 'theirs' }, false]
  }
  for (const [name, [make, accepted]] of Object.entries(cases)) {
    const path = join(dir, make())
    for (const shell of SHELLS) {
      t.equal(inShell(shell, 'private_dir "$DIR" && echo yes || echo no', { DIR: path }), accepted ? 'yes\n' : 'no\n', `${name} (${shell})`)
    }
  }
})

t.test('what the hooks write never goes through a symlink or into a FIFO planted at its name, in dash and bash', async (t) => {
  for (const shell of SHELLS) {
    const dir = mkdtempSync(join(tmpdir(), 'cc-live-common-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const state = join(dir, 'state')
    mkdirSync(state, { mode: 0o700 })
    writeFileSync(join(dir, 'victim'), 'precious\n')
    spawnSync('mkfifo', [join(dir, 'fifo')])
    const output = inShell(shell, `state_dir=$STATE log_file=$STATE/cc-live.log presence=p
      ln -s ../victim "$state_dir/cc-live.log"; log 'through a symlink'
      ln -s ../victim "$state_dir/a.pid.$$"; replace_file "$state_dir/a.pid" 41
      ln -s ../fifo "$state_dir/b.pid.$$"; replace_file "$state_dir/b.pid" 42
      ln -s ../missing "$state_dir/c.pid.$$"; replace_file "$state_dir/c.pid" 43
      ln -s ../victim "$state_dir/d.pid"; replace_file "$state_dir/d.pid" 44
      mkfifo "$state_dir/e.pid"; running_loop "$state_dir/e.pid" || echo 'a FIFO is no pid file'
      ln -s ../victim "$state_dir/f.pid"; read_pid "$state_dir/f.pid" || echo 'nor is a symlink'`, { STATE: state })
    t.equal(output, 'a FIFO is no pid file\nnor is a symlink\n', `${shell}: state files are read only when regular`)
    t.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'precious\n', `${shell}: the symlinks' target is untouched`)
    t.notOk(existsSync(join(dir, 'missing')), `${shell}: a dangling symlink's target is not created`)
    t.match(readFileSync(join(state, 'cc-live.log'), 'utf8'), /^\S+ \S+\[p\] through a symlink\n$/, `${shell}: the log is a new file`)
    for (const [name, content] of [['a', 41], ['b', 42], ['c', 43], ['d', 44]] as const) {
      const file = join(state, `${name}.pid`)
      t.ok(lstatSync(file).isFile(), `${shell}: ${name}.pid is a file of its own`)
      t.equal(readFileSync(file, 'utf8'), `${content}\n`, `${shell}: ${name}.pid holds its pid`)
    }
    t.same(readdirSync(state).sort(), ['a.pid', 'b.pid', 'c.pid', 'cc-live.log', 'd.pid', 'e.pid', 'f.pid'], `${shell}: no temporary file left`)
  }
})

t.test('a model id becomes a short public name, or none: an odd string is never passed on', async (t) => {
  const cases: Array<[string, string]> = [
    ['claude-opus-4-8[1m]', 'Opus 4.8'],
    ['claude-opus-5-5', 'Opus 5.5'],
    ['claude-sonnet-4-5-20250929', 'Sonnet 4.5'],
    ['claude-sonnet-4-20250514', 'Sonnet 4'],
    ['claude-haiku-4-5', 'Haiku 4.5'],
    ['claude-opus-4-1-20250805', 'Opus 4.1'],
    ['claude-3-5-sonnet-20241022', 'Sonnet 3.5'],
    ['claude-3-opus-20240229', 'Opus 3'],
    ['claude-3-5-haiku-latest', 'Haiku 3.5'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'Sonnet 4.5'],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'Sonnet 3.5'],
    ['claude-sonnet-4-5@20250929', 'Sonnet 4.5'],
    ['claude-opus-4-10', 'Opus 4.10'],
    ['opus', ''],
    ['claude-fake', ''],
    ['claude-opus-4-6-fast', ''],
    ['claude-opus-x', ''],
    ['claude-opus-4-8 rm -rf', ''],
    ['gpt-4o', ''],
    ['', '']
  ]
  for (const shell of SHELLS) {
    for (const [id, name] of cases) {
      t.equal(inShell(shell, 'set_model_name "$ID"; printf %s "$model_name"', { ID: id }), name, `${shell}: ${JSON.stringify(id)}`)
    }
  }
})

t.test('a public name is what the server takes: 1 to 48 printable characters, no space at either end', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['a plain name', 'blog', true],
    ['spaces and punctuation inside', 'my "blog" & co.', true],
    ['48 ASCII characters', 'b'.repeat(48), true],
    ['49 ASCII characters', 'b'.repeat(49), false],
    ['48 characters, not ASCII', 'é'.repeat(48), true],
    ['49 characters, not ASCII', 'é'.repeat(49), false],
    ['CJK', '你好世界', true],
    ['an emoji', 'blog 🚀', true],
    ['empty', '', false],
    ['a space first', ' blog', false],
    ['a space last', 'blog ', false],
    ['a no-break space last', 'blog\u00a0', false],
    ['a tab inside', 'bl\tog', false],
    ['a newline inside', 'bl\nog', false],
    ['DEL', 'bl\u007fog', false],
    ['a C1 control', 'bl\u0085og', false],
    ['a bidi override', 'bl\u202eog', false],
    ['a zero-width space', 'bl\u200bog', false],
    ['a line separator', 'bl\u2028og', false],
    ['a private-use character', 'bl\ue000og', false],
    ['an unassigned code point', 'bl\u0378og', false]
  ]
  for (const shell of SHELLS) {
    for (const [what, name, accepted] of cases) {
      t.equal(inShell(shell, 'LC_ALL=C; public_name "$NAME" && echo yes || echo no', { NAME: name }), accepted ? 'yes\n' : 'no\n', `${shell}: ${what}`)
    }
  }
  // Without perl, only ASCII is checked, and so only ASCII is sent.
  const bin = mkdtempSync(join(tmpdir(), 'cc-live-noperl-'))
  t.teardown(() => rmSync(bin, { recursive: true, force: true }))
  symlinkSync(spawnSync('sh', ['-c', 'command -v dash'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'sh'))
  const noPerl = (name: string): string => inShell('sh', 'LC_ALL=C; public_name "$NAME" && echo yes || echo no', { NAME: name, PATH: bin })
  t.equal(noPerl('blog'), 'yes\n', 'without perl: ASCII is sent')
  t.equal(noPerl('café'), 'no\n', 'without perl: anything else is not')
})

t.test('the projects file: the first line whose path or pattern matches the directory or one above it names it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-live-projects-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'projects')
  const projectOf = (lines: string, cwd: string): string => {
    writeFileSync(file, lines)
    return inShell('dash', 'LC_ALL=C; projects_file=$FILE; set_project_name "$CWD"; printf %s "$project_name"', { FILE: file, CWD: cwd, HOME: '/home/dev' })
  }
  const cases: Array<[string, string, string, string]> = [
    ['the directory itself', '/home/dev/blog = blog\n', '/home/dev/blog', 'blog'],
    ['a directory below it', '/home/dev/blog = blog\n', '/home/dev/blog/src/app', 'blog'],
    ['not a directory whose name only begins the same', '/home/dev/blog = blog\n', '/home/dev/blog-old', ''],
    ['~/ is HOME', '~/blog = blog\n', '/home/dev/blog', 'blog'],
    ['~ alone is HOME', '~ = home\n', '/home/dev/anything', 'home'],
    ['a trailing slash', '/home/dev/blog/ = blog\n', '/home/dev/blog', 'blog'],
    ['a pattern', '/home/*/b?og = blog\n', '/home/dev/blog', 'blog'],
    ['* matches across /', '/home/*/blog = blog\n', '/home/a/b/blog', 'blog'],
    ['the first match wins', '/home/dev/* = hidden\n/home/dev/blog = blog\n', '/home/dev/blog', ''],
    ['a specific line first', '/home/dev/blog = blog\n/home/dev/* = hidden\n', '/home/dev/blog', 'blog'],
    ['hidden', '/home/dev/blog = hidden\n', '/home/dev/blog', ''],
    ['comments, blank lines, spaces and tabs', '# mine\n\n  \t/home/dev/blog\t=   my blog  \n', '/home/dev/blog', 'my blog'],
    ['a comment is no rule', '# /home/dev/blog = blog\n', '/home/dev/blog', ''],
    ['a line without =', '/home/dev/blog\n', '/home/dev/blog', ''],
    ['a line without a path', '= blog\n', '/home/dev/blog', ''],
    ['a name that cannot be sent stops the search', '/home/dev/blog = b\u202elog\n/home/dev = dev\n', '/home/dev/blog', ''],
    ['an empty name', '/home/dev/blog =\n', '/home/dev/blog', ''],
    ['no final newline', '/home/dev/blog = blog', '/home/dev/blog', 'blog'],
    ['CRLF lines', '/home/dev/blog = blog\r\n', '/home/dev/blog', 'blog'],
    ['unmapped', '/home/dev/other = other\n', '/home/dev/blog', ''],
    ['no directory known', '/home/dev/blog = blog\n', '', '']
  ]
  for (const [what, lines, cwd, name] of cases) t.equal(projectOf(lines, cwd), name, what)
  t.equal(inShell('dash', 'projects_file=$FILE; set_project_name /home/dev/blog; printf %s "$project_name"', { FILE: join(dir, 'missing') }), '', 'no projects file')
  mkdirSync(join(dir, 'a-directory'))
  t.equal(inShell('dash', 'projects_file=$FILE; set_project_name /home/dev/blog; printf %s "$project_name"', { FILE: join(dir, 'a-directory') }), '',
    'a projects file that is no regular file is not read')
})

t.test('CC_LIVE_SHARE: a comma-separated list of model, project and tool; anything else is named, and shares nothing', async (t) => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'model= project= tool= unknown='],
    ['', 'model= project= tool= unknown='],
    ['model,project,tool', 'model=1 project=1 tool=1 unknown='],
    [' tool , model ', 'model=1 project= tool=1 unknown='],
    ['project,,', 'model= project=1 tool= unknown='],
    ['Model,all,tools', 'model= project= tool= unknown=Model, all, tools'],
    ['*', 'model= project= tool= unknown=*']
  ]
  for (const [share, expected] of cases) {
    const env: Record<string, string> = share === undefined ? {} : { CC_LIVE_SHARE: share }
    t.equal(inShell('dash', 'read_share; printf "model=%s project=%s tool=%s unknown=%s" "$share_model" "$share_project" "$share_tool" "$share_unknown"', env),
      expected, JSON.stringify(share ?? '(unset)'))
  }
})

t.test('a tool is a verb from a fixed list; a name goes into JSON escaped', async (t) => {
  const verbs: Array<[string, string]> = [
    ['Edit', 'editing'], ['Write', 'editing'], ['MultiEdit', 'editing'], ['NotebookEdit', 'editing'],
    ['Read', 'reading'], ['Glob', 'reading'], ['Grep', 'reading'], ['LS', 'reading'],
    ['Bash', 'running commands'], ['WebFetch', 'browsing'], ['WebSearch', 'browsing'],
    ['Task', 'delegating'], ['Agent', 'delegating'], ['TodoWrite', 'planning'],
    ['mcp__github__create_issue', 'using tools'], ['BashOutput', 'using tools'], ['', 'using tools']
  ]
  for (const [tool, verb] of verbs) {
    t.equal(inShell('dash', 'set_tool_verb "$TOOL"; sendable_verb "$tool_verb" && printf %s "$tool_verb"', { TOOL: tool }), verb, `${tool || '(none)'} → ${verb}`)
  }
  t.equal(inShell('dash', 'sendable_verb Bash || echo no'), 'no\n', 'a tool name is no verb')
  for (const shell of SHELLS) {
    t.equal(inShell(shell, 'json_escape "$NAME"; printf %s "$json_value"', { NAME: 'a "b" c\\d\\\\' }), 'a \\"b\\" c\\\\d\\\\\\\\', `${shell}: quotes and backslashes`)
  }
})

t.test('a record whose tool is `=` keeps the tool of the newest one before it that names one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-live-records-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const record = (name: string, content: string): void => writeFileSync(join(dir, `s:1.status.${name}`), content)
  const newest = (): string => inShell('dash', 'state_dir=$DIR; owner=1; set_presence s; newest_status; printf \'%s|%s\' "$newest_status" "$newest_tool"', { DIR: dir })
  record('100.1', 'working\n=\n/a\n.\n')
  t.equal(newest(), 'working|=', 'none before it left: `=`, for the loop to keep the tool it has')
  record('99.1', 'working\nediting\n/a\n.\n')
  record('99.2', 'working\nreading\n/a\n.\n')
  record('101.1', 'waiting\n=\n/a\n.\n')
  t.equal(newest(), 'waiting|reading', 'the PreToolUse before a PermissionRequest, read in the same look')
  record('102.1', 'idle\n\n/a\n.\n')
  record('103.1', 'waiting\n=\n/a\n.\n')
  t.equal(newest(), 'waiting|', 'no tool is a tool too')
  t.equal(inShell('dash', 'sendable_verb = || echo no'), 'no\n', '`=` is never sent')
})

t.test('the newest status record is the one of the hook Claude Code started last, whatever order they were written in', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-live-records-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const record = (name: string, content: string): void => writeFileSync(join(dir, `s:1.status.${name}`), content)
  record('100.900', 'working\nediting\n/a\n.\n')
  record('101.5', 'idle\n\n/b\n.\n')
  record('101.7', 'waiting\nrunning commands\n/c\n.\n')
  record('102.3', 'working\n') // still being written
  record('99.1000', 'working\nreading\n/d\n.\n')
  record('x.1', 'idle\n\n/e\n.\n') // not a record's name
  const newest = (prune: string): string => inShell('dash', `state_dir=$DIR; owner=1; set_presence s; newest_status ${prune}; printf '%s|%s|%s|%s' "\${newest##*/}" "$newest_status" "$newest_tool" "$newest_cwd"`, { DIR: dir })
  t.equal(newest(''), 's:1.status.101.7|waiting|running commands|/c', 'the latest start time, then the highest pid; one being written is passed over')
  t.same(readdirSync(dir).length, 6, 'nothing removed unless asked')
  t.equal(newest('4'), 's:1.status.101.7|waiting|running commands|/c', 'the same when asked to remove four or more older ones')
  t.same(readdirSync(dir).length, 6, 'of which there are three: nothing removed')
  t.equal(newest('3'), 's:1.status.101.7|waiting|running commands|/c', 'the same when asked to remove three or more')
  t.same(readdirSync(dir).sort(), ['s:1.status.101.7', 's:1.status.102.3', 's:1.status.x.1'], 'the older ones are removed, the unfinished one and other names kept')
})
