import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request, type IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const BENCH_KEY = 'bench-key-0123456789abcdef'
export const AUTHORIZATION = `Bearer ${BENCH_KEY}`
/** The body of every heartbeat and stop the bench sends: one session. */
export const SESSION = '{"session_id":"bench"}'

/** The two servers under test: the built service and the node:http + ws floor. */
export const SERVERS = {
  'cc-live': fileURLToPath(new URL('../src/server.js', import.meta.url)),
  floor: fileURLToPath(new URL('reference-server.js', import.meta.url))
} as const
export type ServerName = keyof typeof SERVERS
export const SERVER_NAMES = Object.keys(SERVERS) as ServerName[]
/** One of something per server, as the benchmark compares them. */
export type Pair<T> = Record<ServerName, T>

const GC_ON_SIGNAL = fileURLToPath(new URL('gc-on-signal.js', import.meta.url))
const READY_TIMEOUT_MS = 10_000
const GC_SETTLE_MS = 300
const STOP_TIMEOUT_MS = 10_000
/** USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux the bench targets. */
const CLOCK_TICKS_PER_SECOND = 100

export interface ServerSettings {
  ttlSeconds: number
  logLevel: string
  /** Extra node flags, e.g. --cpu-prof to see where a server spends its time. */
  nodeArgs?: string[]
  /** Settings on top of the bench's own, e.g. where the history is kept, or CC_LIVE_REDIS_URL for a replica. */
  env?: Record<string, string>
}

/** A server under test in its own process, with its logs going to a file as a deployment's would. */
export class ServerProcess {
  readonly name: ServerName
  readonly port: number
  readonly #child: ChildProcess
  readonly #logDir: string
  readonly #exited: Promise<unknown>

  private constructor (name: ServerName, port: number, child: ChildProcess, logDir: string) {
    this.name = name
    this.port = port
    this.#child = child
    this.#logDir = logDir
    this.#exited = once(child, 'exit')
  }

  static async start (name: ServerName, { ttlSeconds, logLevel, nodeArgs = [], env = {} }: ServerSettings): Promise<ServerProcess> {
    const port = await freePort()
    const logDir = mkdtempSync(join(tmpdir(), 'cc-live-bench-'))
    const log = openSync(join(logDir, 'server.log'), 'w')
    const child = spawn(process.execPath, ['--expose-gc', '--import', GC_ON_SIGNAL, ...nodeArgs, SERVERS[name]], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(port),
        CC_LIVE_API_KEY: BENCH_KEY,
        CC_LIVE_TTL_SECONDS: String(ttlSeconds),
        // Keepalive rounds would land inside the timings; the bench runs for minutes, not hours.
        CC_LIVE_PING_SECONDS: '3600',
        // Every bench viewer comes from 127.0.0.1: lift the per-address caps above the largest crowd.
        CC_LIVE_MAX_VIEWERS: '100000',
        CC_LIVE_MAX_VIEWERS_PER_IP: '100000',
        CC_LIVE_MAX_CONNECTIONS_PER_IP: '100100',
        LOG_LEVEL: logLevel,
        ...env
      },
      stdio: ['ignore', log, log]
    })
    closeSync(log)
    const server = new ServerProcess(name, port, child, logDir)
    try {
      await server.#untilServing()
    } catch (error) {
      await server.stop()
      throw error
    }
    return server
  }

  get pid (): number {
    return this.#child.pid as number
  }

  /**
   * Resident set size once garbage is collected and the freed memory returned,
   * read from outside the process. V8 returns freed pages to the system some
   * seconds after a collection (its memory reducer), and only at a later one:
   * hence collect, wait (10 s is enough on Node 20 and 22), collect.
   */
  async settledRss (waitMs: number): Promise<number> {
    this.#child.kill('SIGUSR2')
    await sleep(waitMs)
    this.#child.kill('SIGUSR2')
    await sleep(GC_SETTLE_MS)
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8')
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
    if (kib === undefined) throw new Error(`no VmRSS for ${this.name} (pid ${this.pid})`)
    return Number(kib) * 1024
  }

  /** CPU time the process has used so far, all its threads, user and system. */
  cpuSeconds (): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8')
    // After the parenthesised command name: state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  }

  /** SIGTERM, so a profile gets written, then SIGKILL if it takes too long. */
  async stop (): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM')
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await this.#exited
      clearTimeout(killer)
    }
    rmSync(this.#logDir, { recursive: true, force: true })
  }

  async #untilServing (): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) break
      try {
        if ((await serverRequest(this.port, 'GET', '/ws/live')).status === 200) return
      } catch {}
      await sleep(50)
    }
    const log = readFileSync(join(this.#logDir, 'server.log'), 'utf8')
    throw new Error(`${this.name} did not start serving on port ${this.port}:\n${log}`)
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort (): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const address = probe.address()
  probe.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 })

export interface Answer {
  status: number
  body: string
}

/** One request to a server under test with the bench key, over a kept-alive connection. */
export async function serverRequest (port: number, method: 'GET' | 'POST', path: string, body?: string): Promise<Answer> {
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    method,
    agent,
    headers: { authorization: AUTHORIZATION, ...(body !== undefined && { 'content-type': 'application/json' }) }
  })
  req.end(body)
  const [res] = await once(req, 'response') as [IncomingMessage]
  let text = ''
  for await (const chunk of res) text += chunk
  return { status: res.statusCode ?? 0, body: text }
}
