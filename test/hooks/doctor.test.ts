import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t, { type Test } from 'tap'
import { TEST_KEY } from '../helpers/app.ts'
import { SCRIPTS, startServer } from '../helpers/hooks.ts'
import { freePort } from '../helpers/ports.ts'

/**
 * scripts/cc-live/doctor.sh: one line per check (ok, warn, FAIL with what to do, skip), exit 1 when
 * a check failed. Run as a person runs it: in a project directory, with the environment Claude Code
 * gets, against a real cc-live (or a stand-in that answers as an older or busier one would).
 */

const DOCTOR = join(SCRIPTS, 'doctor.sh')

interface Report {
  status: number | null
  /** Each line's label (ok, warn, FAIL, skip) and text; the log's lines, indented, are left out. */
  lines: Array<{ label: string, text: string }>
  stdout: string
  stderr: string
}

/** A user's HOME with a project directory, and doctor.sh run there with the user's settings. */
function user (t: Test) {
  const home = mkdtempSync(join(tmpdir(), 'cc-live-doctor-'))
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  const project = join(home, 'code', 'blog')
  mkdirSync(project, { recursive: true })
  const stateDir = join(home, '.local', 'state', 'cc-live')
  const projectsFile = join(home, '.config', 'cc-live', 'projects')
  const settingsFile = join(home, '.claude', 'settings.json')
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' }
  return {
    home,
    project,
    stateDir,
    projectsFile,
    settingsFile,
    install: () => spawnSync('sh', [join(SCRIPTS, 'install.sh')], { env: base, encoding: 'utf8' }),
    mapProjects: (lines: string) => {
      mkdirSync(dirname(projectsFile), { recursive: true })
      writeFileSync(projectsFile, lines)
    },
    /** Runs doctor.sh, asynchronously: the server it asks runs in this process. */
    doctor: async (env: Record<string, string | undefined>, args: string[] = []): Promise<Report> => {
      const defined = Object.fromEntries(Object.entries({ ...base, ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined))
      const child = spawn('sh', [DOCTOR, ...args], { cwd: project, env: defined })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      const [status] = await once(child, 'close') as [number | null]
      const lines = stdout.split('\n').filter((line) => /^\S/.test(line)).map((line) => {
        const [, label = '', text = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? []
        return { label, text }
      })
      return { status, lines, stdout, stderr }
    }
  }
}

/** The line about a check, found by a phrase only it has. */
function line (t: Test, report: Report, phrase: string): { label: string, text: string } {
  const found = report.lines.find(({ text }) => text.includes(phrase))
  if (found === undefined) t.fail(`no line with ${JSON.stringify(phrase)} in:\n${report.stdout}`)
  return found ?? { label: '', text: '' }
}

/** A stand-in for a cc-live that answers each path with the status given (404 otherwise). */
async function standIn (t: Test, answers: Record<string, number>): Promise<string> {
  const server: Server = createServer((request, response) => {
    response.writeHead(answers[`${request.method} ${request.url}`] ?? 404, { 'content-type': 'application/json' })
    response.end('{}')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

t.test('everything in order: each check says ok, and it exits 0, sending the key in no command line', async (t) => {
  const server = await startServer(t)
  const requests = server.record(t)
  const me = user(t)
  t.equal(me.install().status, 0, 'hooks installed')
  const report = await me.doctor({ CC_LIVE_ENDPOINT: `${server.endpoint}/`, CC_LIVE_API_KEY: TEST_KEY })
  t.equal(report.status, 0, 'exit 0')
  t.equal(report.stderr, '')
  t.same(report.lines.filter(({ label }) => label !== 'ok'), [], `every line ok:\n${report.stdout}`)
  t.match(line(t, report, 'the key is accepted').text, '/api/live/check is 204')
  t.match(line(t, report, 'the endpoint answers').text, '/healthz is 200')
  t.match(line(t, report, 'the hooks are installed').text, 'all 12 events')
  t.match(line(t, report, 'the state directory').text, 'will be made')
  t.match(line(t, report, 'shared from here').text, /^shared from here: the status \(working, waiting, idle\); never/)
  t.match(line(t, report, 'the log').text, 'nothing has failed')
  t.same(requests.map(({ action, statusCode }) => [action, statusCode]), [['check', 204]], 'one request to the API, which changes nothing')
  t.ok(server.argv.curlSeen, "curl's command line was looked at while it was sending")
  t.notOk(server.argv.keySeen, 'no command line held the key')
})

t.test('configuration: a missing or malformed endpoint, key or interval fails, with what to do', async (t) => {
  const server = await startServer(t)
  const me = user(t)
  me.install()
  const cases: Array<[string, Record<string, string | undefined>, string, string, string]> = [
    ['no endpoint', { CC_LIVE_ENDPOINT: undefined, CC_LIVE_API_KEY: TEST_KEY }, 'CC_LIVE_ENDPOINT is not set', 'FAIL', 'export CC_LIVE_ENDPOINT='],
    ['not a URL', { CC_LIVE_ENDPOINT: 'live.example.com', CC_LIVE_API_KEY: TEST_KEY }, 'not an http:// or https:// URL', 'FAIL', 'set it to'],
    ['plain http to another host', { CC_LIVE_ENDPOINT: 'http://127.0.0.2:1', CC_LIVE_API_KEY: TEST_KEY }, 'clear text', 'warn', 'use https://'],
    ['no key', { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: undefined }, 'CC_LIVE_API_KEY is not set', 'FAIL', "export the server's key"],
    ['a key with a quote', { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: 'a"key-0123456789abcdef' }, 'characters a bearer token cannot have', 'FAIL', "set it to the server's key"],
    ['a short key', { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: 'short-key' }, 'has 9 characters', 'FAIL', "set it to the server's key"],
    ['a bad interval', { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_INTERVAL_SECONDS: 'soon' }, "CC_LIVE_INTERVAL_SECONDS is 'soon'", 'FAIL', 'unset it']
  ]
  for (const [what, env, phrase, label, fix] of cases) {
    const report = await me.doctor({ CC_LIVE_INTERVAL_SECONDS: '0.5', ...env })
    const found = line(t, report, phrase)
    t.equal(found.label, label, `${what}: ${label}`)
    t.match(found.text, fix, `${what}: says what to do`)
    if (label === 'FAIL') t.equal(report.status, 1, `${what}: exit 1`)
  }
  const noEndpoint = await me.doctor({ CC_LIVE_API_KEY: TEST_KEY })
  t.equal(line(t, noEndpoint, 'the endpoint answers').label, 'skip', 'without an endpoint nothing is asked')
  const noKey = await me.doctor({ CC_LIVE_ENDPOINT: server.endpoint })
  t.equal(line(t, noKey, 'the key is accepted').label, 'skip', 'without a key it is not tried')
})

t.test('the service: not answering, answering only on /ws/live, refusing the key, too old, or limiting', async (t) => {
  const me = user(t)
  me.install()
  const nothing = await me.doctor({ CC_LIVE_ENDPOINT: `http://127.0.0.1:${await freePort()}`, CC_LIVE_API_KEY: TEST_KEY })
  t.equal(line(t, nothing, 'the endpoint does not answer').label, 'FAIL', 'nothing listening')
  t.match(line(t, nothing, 'the endpoint does not answer').text, /HTTP 000 \(curl: \(7\).*check the URL/)
  t.equal(line(t, nothing, 'the key is accepted').label, 'skip', 'then the key is not tried')
  t.equal(nothing.status, 1)

  const cases: Array<[string, Record<string, number>, string, string]> = [
    ['behind a proxy that passes only the service\'s paths', { 'GET /ws/live': 200, 'POST /api/live/check': 204 }, 'GET', 'ok'],
    ['a wrong key', { 'GET /healthz': 200, 'POST /api/live/check': 401 }, 'the key is refused', 'FAIL'],
    ['a server older than the hooks', { 'GET /healthz': 200 }, 'older than the hooks', 'FAIL'],
    ['too many wrong keys from here', { 'GET /healthz': 200, 'POST /api/live/check': 429 }, 'wait ten minutes', 'FAIL'],
    ['a server error', { 'GET /healthz': 200, 'POST /api/live/check': 500 }, 'HTTP 500', 'FAIL']
  ]
  for (const [what, answers, phrase, label] of cases) {
    const report = await me.doctor({ CC_LIVE_ENDPOINT: await standIn(t, answers), CC_LIVE_API_KEY: TEST_KEY })
    t.equal(line(t, report, phrase).label, label, what)
    t.equal(report.status, label === 'FAIL' ? 1 : 0, `${what}: exit status`)
  }
})

t.test('the hooks: missing, only the session hooks of an older install, in another settings file, or not checkable', async (t) => {
  const server = await startServer(t)
  const me = user(t)
  const env = { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: TEST_KEY }
  const none = await me.doctor(env)
  t.equal(line(t, none, 'the hooks are not all installed').label, 'FAIL', 'no settings file')
  t.match(line(t, none, 'the hooks are not all installed').text, `run ${SCRIPTS}install.sh`)

  mkdirSync(dirname(me.settingsFile), { recursive: true })
  writeFileSync(me.settingsFile, JSON.stringify({ hooks: { SessionStart: [{ hooks: [{ type: 'command', command: join(SCRIPTS, 'start.sh') }] }] } }))
  const older = await me.doctor(env)
  t.match(line(t, older, 'the hooks are not all installed').text, 'missing for SessionEnd, UserPromptSubmit', 'an older install: the events without a hook are named')

  const elsewhere = join(me.home, 'project-settings.json')
  spawnSync('sh', [join(SCRIPTS, 'install.sh'), elsewhere], { encoding: 'utf8' })
  const given = await me.doctor(env, [elsewhere])
  t.equal(line(t, given, 'the hooks are installed').label, 'ok', 'the settings file given')
  t.equal(given.status, 0)

  // A PATH with everything doctor.sh and install.sh use but python3.
  const bin = join(me.home, 'bin')
  mkdirSync(bin)
  for (const tool of ['sh', 'curl', 'dirname', 'find', 'id', 'tail', 'sed', 'cat', 'head']) {
    symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool))
  }
  const noPython = await me.doctor({ ...env, PATH: bin }, [elsewhere])
  t.equal(line(t, noPython, 'the hooks could not be checked').label, 'warn', 'without python3: a warning')
  t.equal(noPython.status, 0, 'which fails nothing')
})

t.test('the state directory: made later, private, or one the hooks refuse (writable by others, a symlink, a file)', async (t) => {
  const server = await startServer(t)
  const env = { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: TEST_KEY }
  const cases: Array<[string, (stateDir: string, home: string) => void, string, string]> = [
    ['private', (dir) => mkdirSync(dir, { recursive: true, mode: 0o700 }), 'ok', 'no one else can write it'],
    ['readable by others', (dir) => { mkdirSync(dir, { recursive: true }); chmodSync(dir, 0o755) }, 'ok', 'no one else can write it'],
    ['writable by the group', (dir) => { mkdirSync(dir, { recursive: true }); chmodSync(dir, 0o770) }, 'FAIL', 'chmod 700'],
    ['writable by others', (dir) => { mkdirSync(dir, { recursive: true }); chmodSync(dir, 0o777) }, 'FAIL', 'chmod 700'],
    ['a symlink', (dir, home) => { mkdirSync(join(home, 'elsewhere'), { mode: 0o700 }); mkdirSync(dirname(dir), { recursive: true }); symlinkSync(join(home, 'elsewhere'), dir) }, 'FAIL', 'is a symlink'],
    ['a file', (dir) => { mkdirSync(dirname(dir), { recursive: true }); writeFileSync(dir, '') }, 'FAIL', 'not a directory']
  ]
  for (const [what, make, label, phrase] of cases) {
    const me = user(t)
    me.install()
    make(me.stateDir, me.home)
    const report = await me.doctor(env)
    const found = line(t, report, 'the state directory')
    t.equal(found.label, label, `${what}: ${label}`)
    t.match(found.text, phrase, `${what}: ${phrase}`)
    t.equal(report.status, label === 'FAIL' ? 1 : 0, `${what}: exit status`)
  }
})

t.test('what would be shared from the directory it runs in, and the projects file\'s lines that cannot work', async (t) => {
  const server = await startServer(t)
  const me = user(t)
  me.install()
  const env = { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: TEST_KEY }

  me.mapProjects('~/code/blog = my blog\n')
  const everything = await me.doctor({ ...env, CC_LIVE_SHARE: 'model,project,tool' })
  t.match(line(t, everything, 'shared from here').text, `the model's short name (e.g. Opus 4.8), what the tool in use does (e.g. editing, running commands), the project "my blog" for ${me.project}`)
  t.equal(line(t, everything, me.projectsFile).label, 'ok', 'the projects file is well formed')
  t.equal(everything.status, 0)

  me.mapProjects('~/code/* = hidden\n~/code/blog = my blog\n')
  const hidden = await me.doctor({ ...env, CC_LIVE_SHARE: 'project' })
  t.match(line(t, hidden, 'shared from here').text, `no project for ${me.project}`, 'a hidden directory: no project')

  me.mapProjects('~/code/blog\n~/code = bl\u202eog\n# ok = fine\n')
  const broken = await me.doctor({ ...env, CC_LIVE_SHARE: 'tool, bogus' })
  t.equal(line(t, broken, 'CC_LIVE_SHARE names what cannot be shared').label, 'FAIL', 'an unknown field fails')
  t.match(line(t, broken, 'CC_LIVE_SHARE names what cannot be shared').text, '(bogus)')
  const lint = line(t, broken, me.projectsFile)
  t.equal(lint.label, 'FAIL', 'lines that cannot work fail')
  t.match(lint.text, 'line 1 is not PATH = NAME, and is skipped; line 2 names what the server would not take')
  t.equal(broken.status, 1)

  rmSync(me.projectsFile)
  const noFile = await me.doctor({ ...env, CC_LIVE_SHARE: 'project' })
  t.equal(line(t, noFile, 'there is no').label, 'warn', 'sharing projects without a projects file: a warning')
})

t.test('the log: its last lines, a warning when they tell of failures', async (t) => {
  const server = await startServer(t)
  const me = user(t)
  me.install()
  const env = { CC_LIVE_ENDPOINT: server.endpoint, CC_LIVE_API_KEY: TEST_KEY }
  mkdirSync(me.stateDir, { recursive: true, mode: 0o700 })
  const log = join(me.stateDir, 'cc-live.log')
  writeFileSync(log, '2026-11-26T09:00:00Z heartbeat-loop.sh[a:1] heartbeat failed: HTTP 401\n')
  const failing = await me.doctor(env)
  t.equal(line(t, failing, 'the last lines of').label, 'warn', 'a failure in the last lines')
  t.match(failing.stdout, '        2026-11-26T09:00:00Z heartbeat-loop.sh[a:1] heartbeat failed: HTTP 401\n', 'shown, indented')
  writeFileSync(log, '2026-11-26T09:01:00Z heartbeat-loop.sh[a:1] heartbeat works again\n', { flag: 'a' })
  writeFileSync(log, '2026-11-26T09:02:00Z heartbeat-loop.sh[a:1] Claude Code 1 is gone without a SessionEnd: ending the session\n', { flag: 'a' })
  writeFileSync(log, '2026-11-26T09:03:00Z heartbeat-loop.sh[b:1] heartbeat works again\n', { flag: 'a' })
  const recovered = await me.doctor(env)
  t.equal(line(t, recovered, 'the last lines of').label, 'ok', 'the last three lines tell of no failure')
  t.equal(recovered.status, 0, 'the log fails nothing')
  t.same(readdirSync(me.stateDir), ['cc-live.log'], 'doctor.sh wrote nothing')
})
