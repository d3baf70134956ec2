import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const COMMON = fileURLToPath(new URL('../../scripts/cc-live/common.sh', import.meta.url))

/** Runs a snippet of sh with common.sh sourced; stdin is the input, or /dev/null for null. */
function shell (snippet: string, input: string | null = null): string {
  const result = spawnSync('sh', ['-c', `. "$0"; state_dir=/state; ${snippet}`, COMMON], {
    encoding: 'utf8',
    ...(input === null ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input })
  })
  if (result.status !== 0 || result.stderr !== '') throw new Error(`sh failed: ${result.stderr}`)
  return result.stdout
}

const sessionOf = (input: string | null): string => shell('read_hook_session; printf "%s %s" "$session_name" "$pid_file"', input)

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
    ['every allowed character, 128 of them', JSON.stringify({ session_id: 'aZ09._:-'.repeat(16) }), 'aZ09._:-'.repeat(16)],
    ['129 characters', JSON.stringify({ session_id: 'a'.repeat(129) }), '@default'],
    ['a path', JSON.stringify({ session_id: '../../etc/passwd' }), '@default'],
    ['a space', JSON.stringify({ session_id: 'a b' }), '@default'],
    ['an escaped quote', JSON.stringify({ session_id: 'a"b' }), '@default'],
    ['a unicode escape', '{"session_id":"\\u0061bc"}', '@default'],
    ['an empty id', '{"session_id":""}', '@default'],
    ['a number', '{"session_id":42}', '@default'],
    ['no session_id', '{"hook_event_name":"SessionStart"}', '@default'],
    ['text that is not JSON', 'hello', '@default'],
    ['empty stdin', '', '@default'],
    ['no stdin', null, '@default']
  ]
  for (const [name, input, session] of cases) {
    t.equal(sessionOf(input), `${session} /state/${session}.pid`, name)
  }
  t.equal(sessionOf('{"session_id":".."}'), '.. /state/...pid', 'a dot id stays a file name inside the state directory')
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
  const nested = spawnSync('sh', ['-c', 'sh -c \'. "$1"; find_owner; echo "$owner"\' sh "$0"; true', COMMON], { encoding: 'utf8' })
  t.equal(nested.stdout, `${process.pid}\n`, 'through a shell that stays in between')
})
