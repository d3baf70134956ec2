import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { combineRounds, heartbeatRound, type HeartbeatLoad, type HeartbeatLoadOptions } from './heartbeat-load.ts'
import type { Transport } from './crowd.ts'
import type { Delivery, LoadCommand, LoadCounts, LoadMessage } from './load-process.ts'
import { SERVER_NAMES, ServerProcess, type Pair, type ServerName } from './servers.ts'

const LOAD_ENTRY = fileURLToPath(new URL('load-process.js', import.meta.url))

export interface CrowdOptions {
  viewers: number
  /** Both rounded up to even: flips come in heartbeat-then-stop pairs. */
  warmupFlips: number
  flips: number
  expiries: number
  ttlSeconds: number
  /** How long to let freed memory go back to the system before reading RSS. */
  memorySettleSeconds: number
  nodeArgs: string[]
  onProgress: (name: ServerName, connected: number) => void
}

export interface CrowdResult {
  viewers: number
  rssPerViewerBytes: number
  /** The same for viewers on Server-Sent Events, on servers of their own. */
  sseRssPerViewerBytes: number
  /** Request sent to the last viewer having the new state, per measured flip. */
  fanOutMs: number[]
  /** Last viewer having `active:false` past the session's deadline, per expiry. */
  expiryLatenessMs: number[]
  missed: number
  duplicated: number
}

/** A forked load process (bench/load-process.ts), one command at a time. */
export class LoadProcess {
  readonly #child: ChildProcess
  #onProgress: (connected: number) => void = () => {}
  #pending: { resolve: (value: unknown) => void, reject: (error: Error) => void } | undefined

  constructor () {
    this.#child = fork(LOAD_ENTRY, { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child.on('message', (message: LoadMessage) => {
      if (message.type === 'progress') return this.#onProgress(message.connected)
      const pending = this.#pending
      this.#pending = undefined
      if (message.type === 'result') pending?.resolve(message.value)
      else pending?.reject(new Error(`load process: ${message.message}`))
    })
    this.#child.once('exit', (code) => this.#pending?.reject(new Error(`load process exited with ${code}`)))
  }

  async connect (port: number, viewers: number, transport: Transport, onProgress: (connected: number) => void): Promise<void> {
    this.#onProgress = onProgress
    await this.#call({ type: 'connect', port, viewers, transport })
  }

  async flip (): Promise<number> {
    return this.#call({ type: 'flip' }) as Promise<number>
  }

  async expiry (ttlSeconds: number): Promise<number> {
    return this.#call({ type: 'expiry', ttlSeconds }) as Promise<number>
  }

  async arm (): Promise<void> {
    await this.#call({ type: 'arm' })
  }

  async delivered (expected: string): Promise<Delivery> {
    return this.#call({ type: 'delivered', expected }) as Promise<Delivery>
  }

  async counts (): Promise<LoadCounts> {
    return this.#call({ type: 'counts' }) as Promise<LoadCounts>
  }

  async stop (): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = once(this.#child, 'exit')
    this.#child.kill()
    await exited
  }

  async #call (command: LoadCommand): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#child.send(command)
    })
  }
}

/** Forward and backward in turn, so drift in the machine's load does not favour whichever server goes first. */
export function inTurn<K extends string, T> (round: number, servers: Record<K, T>): Array<[K, T]> {
  const entries = Object.entries(servers) as Array<[K, T]>
  return round % 2 === 0 ? entries : entries.reverse()
}

/** One value per server, computed for both at once. */
async function forEachServer<T> (compute: (name: ServerName) => Promise<T>): Promise<Pair<T>> {
  const values = await Promise.all(SERVER_NAMES.map(compute))
  return Object.fromEntries(SERVER_NAMES.map((name, index) => [name, values[index]])) as Pair<T>
}

/** Both servers fresh, each with its own load process: what each gains per idle viewer on `transport`. */
async function idleViewerMemory (options: CrowdOptions, transport: Transport, servers: Partial<Pair<ServerProcess>>, loads: Partial<Pair<LoadProcess>>): Promise<Pair<number>> {
  for (const name of SERVER_NAMES) servers[name] = await ServerProcess.start(name, { ttlSeconds: options.ttlSeconds, logLevel: 'warn', nodeArgs: options.nodeArgs })
  const server = servers as Pair<ServerProcess>
  const rssBefore = await forEachServer((name) => server[name].settledRss(options.memorySettleSeconds * 1000))
  for (const name of SERVER_NAMES) {
    loads[name] = new LoadProcess()
    await loads[name].connect(server[name].port, options.viewers, transport, (connected) => options.onProgress(name, connected))
  }
  const rssAfter = await forEachServer((name) => server[name].settledRss(options.memorySettleSeconds * 1000))
  return forEachServer(async (name) => (rssAfter[name] - rssBefore[name]) / options.viewers)
}

/** Stops the servers first, while the load processes still answer their close handshakes. */
async function stopAll (servers: Partial<Pair<ServerProcess>>, loads: Partial<Pair<LoadProcess>>): Promise<void> {
  await Promise.all(Object.values(servers).map((server) => server.stop()))
  await Promise.all(Object.values(loads).map((load) => load.stop()))
}

/** Memory per idle event-stream viewer, on servers of their own. */
async function sseViewerMemory (options: CrowdOptions): Promise<Pair<number>> {
  const servers: Partial<Pair<ServerProcess>> = {}
  const loads: Partial<Pair<LoadProcess>> = {}
  try {
    return await idleViewerMemory(options, 'sse', servers, loads)
  } finally {
    await stopAll(servers, loads)
  }
}

/**
 * Both servers fresh, each with `viewers` WebSocket viewers held by its own load process:
 * memory per idle viewer, then fan-out flips and expiries taken in turns, so both servers
 * meet the same background load; then memory per idle viewer on Server-Sent Events.
 */
export async function measureCrowds (options: CrowdOptions): Promise<Pair<CrowdResult>> {
  const servers: Partial<Pair<ServerProcess>> = {}
  const loads: Partial<Pair<LoadProcess>> = {}
  try {
    const rssPerViewer = await idleViewerMemory(options, 'websocket', servers, loads)
    const load = loads as Pair<LoadProcess>

    const fanOutMs = { 'cc-live': [] as number[], floor: [] as number[] }
    const expiryLatenessMs = { 'cc-live': [] as number[], floor: [] as number[] }
    // A turn is a heartbeat then a stop, so no session is live (and due to expire) during the other server's turn.
    const warmupTurns = Math.ceil(options.warmupFlips / 2)
    const turns = warmupTurns + Math.ceil(options.flips / 2)
    for (let turn = 0; turn < turns; turn++) {
      for (const [name, driver] of inTurn(turn, load)) {
        const ms = [await driver.flip(), await driver.flip()]
        if (turn >= warmupTurns) fanOutMs[name].push(...ms)
      }
    }
    for (let round = 0; round < options.expiries; round++) {
      for (const [name, driver] of inTurn(round, load)) expiryLatenessMs[name].push(await driver.expiry(options.ttlSeconds))
    }
    const counts = await forEachServer((name) => load[name].counts())
    await stopAll(servers, loads)
    const sseRssPerViewer = await sseViewerMemory(options)
    return forEachServer(async (name) => ({
      viewers: options.viewers,
      rssPerViewerBytes: rssPerViewer[name],
      sseRssPerViewerBytes: sseRssPerViewer[name],
      fanOutMs: fanOutMs[name].filter(Number.isFinite),
      expiryLatenessMs: expiryLatenessMs[name].filter(Number.isFinite),
      ...counts[name]
    }))
  } finally {
    await stopAll(servers, loads)
  }
}

/**
 * Heartbeat throughput and latency of each fresh server with no viewers,
 * measured in alternating rounds for the same reason as the flips.
 */
export async function measureHeartbeats<Label extends string> (
  setups: Record<Label, { name: ServerName, logLevel: string }>,
  options: HeartbeatLoadOptions & { nodeArgs: string[] }
): Promise<Record<Label, HeartbeatLoad>> {
  const labels = Object.keys(setups) as Label[]
  const servers = {} as Record<Label, ServerProcess>
  try {
    for (const label of labels) {
      servers[label] = await ServerProcess.start(setups[label].name, { ttlSeconds: 60, logLevel: setups[label].logLevel, nodeArgs: options.nodeArgs })
    }
    const rounds = Object.fromEntries(labels.map((label) => [label, [] as HeartbeatLoad[]])) as Record<Label, HeartbeatLoad[]>
    const warmup = { ...options, seconds: Math.min(1, options.seconds), sequential: Math.min(100, options.sequential) }
    for (const label of labels) await heartbeatRound(servers[label], warmup)
    for (let round = 0; round < options.rounds; round++) {
      for (const [label, server] of inTurn(round, servers)) rounds[label].push(await heartbeatRound(server, options))
    }
    const combined = {} as Record<Label, HeartbeatLoad>
    for (const label of labels) combined[label] = combineRounds(rounds[label])
    return combined
  } finally {
    await Promise.all((Object.values(servers) as ServerProcess[]).map((server) => server.stop()))
  }
}
