import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t from 'tap'
import { AUTH, TEST_KEY } from '../helpers/app.ts'
import { openViewer } from '../helpers/viewer.ts'
import { copyPaths, execArguments, type Instruction, instructionsOf, parseContainerfile, stageEnvironment, stageNamed } from '../helpers/containerfile.ts'
import { OFFLINE } from '../helpers/states.ts'

// Rebuilds the image's runtime stage without a container engine (production-only install from the
// lockfile plus the compiled output) and runs it as the image would: a runtime import of a dev
// dependency, a missing file or a broken probe fails here.
t.setTimeout(180_000)

const run = promisify(execFile)
const runtime = stageNamed(parseContainerfile('Containerfile'), 'runtime')
const imageEnv = stageEnvironment(runtime)
const [command = []] = instructionsOf(runtime, 'CMD').map(({ rest }) => execArguments(rest))
const [probe = []] = instructionsOf(runtime, 'HEALTHCHECK').map(({ rest }) => execArguments(rest))
/** The arguments of each `tsc` in package.json's build script. */
const buildSteps = (JSON.parse(readFileSync('package.json', 'utf8')).scripts.build as string)
  .split('&&')
  .map((step) => step.trim().split(/\s+/))
  .map(([tool, ...args]) => {
    if (tool !== 'tsc') throw new Error(`this test does not know how to run the build step: ${tool}`)
    return args
  })

// Outside the repository, so no node_modules above it can stand in for a missing package.
const app = mkdtempSync(join(tmpdir(), 'cc-live-image-'))
t.teardown(() => rmSync(app, { recursive: true, force: true }))
// The image's absolute paths (the state volume) live under a root of their own.
const root = mkdtempSync(join(tmpdir(), 'cc-live-root-'))
t.teardown(() => rmSync(root, { recursive: true, force: true }))
const inRoot = (path: string): string => join(root, path)

/** What one runtime-stage instruction does to /app, here the temporary directory. */
async function apply (instruction: Instruction): Promise<void> {
  if (instruction.keyword === 'COPY') {
    const { sources, destination } = copyPaths(instruction)
    if (instruction.flags.from === 'build') {
      // The build stage's output is what `npm run build` compiles (packaging.test.ts checks the path):
      // each of its tsc steps, here aimed at the temporary directory.
      for (const step of buildSteps) {
        await run(process.execPath, ['node_modules/typescript/bin/tsc', ...step, '--outDir', join(app, destination)])
      }
      return
    }
    for (const source of sources) cpSync(source, join(app, destination, basename(source)), { recursive: true })
  } else if (instruction.keyword === 'RUN') {
    for (const step of instruction.rest.split('&&').map((part) => part.trim())) await runStep(step)
  }
}

/** One command of a RUN instruction. */
async function runStep (step: string): Promise<void> {
  const [tool, ...args] = step.split(/\s+/)
  if (tool === 'npm' && args[0] === 'ci') {
    // Same command; --prefer-offline only lets npm take the tarballs from its cache.
    await run('npm', [...args, '--prefer-offline'], { cwd: app, env: { ...process.env, ...imageEnv } })
  } else if (tool === 'mkdir' && args[0] === '-p') {
    for (const dir of args.slice(1)) mkdirSync(inRoot(dir), { recursive: true })
  } else if (tool !== 'chown') {
    // chown is left out: here one user runs everything; the engine applies the owner.
    throw new Error(`this test does not know how to run: ${step}`)
  }
}

/** The image's environment plus the deployment's settings, and nothing inherited from this shell. */
function containerEnv (settings: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...imageEnv, CC_LIVE_STATE_FILE: inRoot(imageEnv.CC_LIVE_STATE_FILE ?? ''), ...settings }
}

/** Runs the HEALTHCHECK command as the engine would, in the image's working directory. */
async function probeExitCode (port: number): Promise<number> {
  const [, ...args] = probe
  const child = spawn(process.execPath, args, { cwd: app, env: containerEnv({ PORT: String(port) }), stdio: 'ignore' })
  const [code] = await once(child, 'exit') as [number]
  return code
}

/** Starts the CMD and resolves with the port once the log says it listens. */
async function start (logLines: string[]): Promise<{ server: ChildProcess, port: number }> {
  const [, ...args] = command
  const server = spawn(process.execPath, args, {
    cwd: app,
    env: containerEnv({ CC_LIVE_API_KEY: TEST_KEY, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { server.kill('SIGKILL') })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)))
    createInterface({ input: server.stdout! }).on('line', (line) => {
      logLines.push(line)
      const listening = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)
      if (listening) resolve(Number(listening[1]))
    })
  })
  return { server, port }
}

t.test('the runtime stage installs no development-only package', async (t) => {
  for (const instruction of runtime.instructions) await apply(instruction)
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> }
  const devOnly = Object.keys(packageJson.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev === true)
  t.ok(devOnly.includes('typescript') && devOnly.includes('tap'))
  for (const name of devOnly) t.notOk(existsSync(join(app, 'node_modules', name)), `${name} is not installed`)
  for (let dir = dirname(app); dir !== dirname(dir); dir = dirname(dir)) {
    t.notOk(existsSync(join(dir, 'node_modules')), `no ${dir}/node_modules to resolve from`)
  }
  t.ok(existsSync(join(app, command[1] ?? '')), `${command[1]} was compiled`)
})

t.test('started as the image starts it, it serves health, heartbeats and viewers, then stops cleanly on SIGTERM', async (t) => {
  t.equal(imageEnv.NODE_ENV, 'production')
  const logLines: string[] = []
  const { server, port } = await start(logLines)
  const base = `http://127.0.0.1:${port}`

  const health = await fetch(`${base}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  t.equal(await probeExitCode(port), 0, 'the HEALTHCHECK command passes')

  const viewer = await openViewer(`ws://127.0.0.1:${port}/ws/live`)
  t.same(await viewer.next(), OFFLINE)
  const heartbeat = await fetch(`${base}/api/live/heartbeat`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"session_id":"image"}' })
  t.equal(heartbeat.status, 200)
  t.match(await viewer.next(), { active: true, sessions: 1 })
  t.match(await (await fetch(`${base}/ws/live`)).json(), { active: true, sessions: 1 })

  const exited = once(server, 'exit')
  server.kill('SIGTERM')
  t.same(await viewer.closed, { code: 1001 }, 'viewers are told the server is going away')
  t.same(await exited, [0, null], 'exit code 0')
  t.equal(await probeExitCode(port), 1, 'the HEALTHCHECK command fails once the server is gone')

  const stateFile = inRoot(imageEnv.CC_LIVE_STATE_FILE ?? '')
  t.match(readFileSync(stateFile, 'utf8'), /"image"/, 'the session was kept on the state volume')
  t.equal(statSync(stateFile).mode & 0o777, 0o600, 'readable by the service only')
  const restarted = await start([])
  const afterRestart = await openViewer(`ws://127.0.0.1:${restarted.port}/ws/live`)
  t.match(await afterRestart.next(), { active: true, sessions: 1 }, 'a restarted container is still live')
  restarted.server.kill('SIGTERM')
  await afterRestart.closed

  for (const line of logLines) t.doesNotThrow(() => JSON.parse(line), 'production logs are JSON lines')
  t.notOk(logLines.some((line) => line.includes(TEST_KEY)), 'the key is not logged')
})
