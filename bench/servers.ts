import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const BENCH_KEY = 'bench-key-0123456789abcdef'
export const AUTHORIZATION = `Bearer ${BENCH_KEY}`

/** The two servers under test: the built service and the node:http + ws floor. */
export const SERVERS = {
  'cc-live': fileURLToPath(new URL('../src/server.js', import.meta.url)),
  floor: fileURLToPath(new URL('reference-server.js', import.meta.url))
} as const
export type ServerName = keyof typeof SERVERS

const GC_ON_SIGNAL = fileURLToPath(new URL('gc-on-signal.js', import.meta.url))
const READY_TIMEOUT_MS = 10_000
const GC_SETTLE_MS = 300

export interface ServerSettings {
  ttlSeconds: number
  logLevel: string
}

/** A server under test in its own process, with its logs going to a file as a deployment's would. */
export class ServerProcess {
  readonly #child: ChildProcess
  readonly #logDir: string
  readonly #exited: Promise<unknown>

  private constructor (readonly name: ServerName, readonly port: number, child: ChildProcess, logDir: string) {
    this.#child = child
    this.#logDir = logDir
    this.#exited = once(child, 'exit')
  }

  static async start (name: ServerName, { ttlSeconds, logLevel }: ServerSettings): Promise<ServerProcess> {
    const port = await freePort()
    const logDir = mkdtempSync(join(tmpdir(), 'cc-live-bench-'))
    const log = openSync(join(logDir, 'server.log'), 'w')
    const child = spawn(process.execPath, ['--expose-gc', '--import', GC_ON_SIGNAL, SERVERS[name]], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(port),
        CC_LIVE_API_KEY: BENCH_KEY,
        CC_LIVE_TTL_SECONDS: String(ttlSeconds),
        // Keepalive rounds would land inside the timings; the bench runs for minutes, not hours.
        CC_LIVE_PING_SECONDS: '3600',
        LOG_LEVEL: logLevel
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

  /** Resident set size after a full garbage collection, read from outside the process. */
  async rssAfterGc (): Promise<number> {
    this.#child.kill('SIGUSR2')
    await sleep(GC_SETTLE_MS)
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8')
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
    if (kib === undefined) throw new Error(`no VmRSS for ${this.name} (pid ${this.pid})`)
    return Number(kib) * 1024
  }

  async stop (): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL')
      await this.#exited
    }
    rmSync(this.#logDir, { recursive: true, force: true })
  }

  async #untilServing (): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) break
      try {
        if ((await post(this.port, '/ws/live', undefined, 'GET')).status === 200) return
      } catch {}
      await sleep(50)
    }
    const log = readFileSync(join(this.#logDir, 'server.log'), 'utf8')
    throw new Error(`${this.name} did not start serving on port ${this.port}:\n${log}`)
  }
}

async function freePort (): Promise<number> {
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

/** One request to the server with the bench key, over a kept-alive connection. */
export async function post (port: number, path: string, body?: string, method = 'POST'): Promise<Answer> {
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    method,
    agent,
    headers: { authorization: AUTHORIZATION, ...(body !== undefined && { 'content-type': 'application/json' }) }
  })
  req.end(body)
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  let text = ''
  for await (const chunk of res) text += chunk
  return { status: res.statusCode ?? 0, body: text }
}
