import type { ChildProcess } from 'node:child_process'
import type { Delivery } from './load-process.ts'
import { inTurn, LoadProcess } from './measure.ts'
import { findRedisServer, REDIS_SERVER_MISSING, spawnRedisServer } from './redis-server.ts'
import { comparisonRow, type Row } from './report.ts'
import { freePort, ServerProcess, serverRequest, SESSION } from './servers.ts'
import { median, percentile } from './statistics.ts'

export interface ReplicaOptions {
  /** Viewers per process: the single process holds this many, and so does each replica. */
  viewers: number
  replicas: number
  warmupFlips: number
  flips: number
  /** Flips with one viewer a process, for the latency the Redis hop adds by itself. */
  hopFlips: number
  memorySettleSeconds: number
  nodeArgs: string[]
  onProgress: (name: string, connected: number) => void
}

/** One way of running the service under test: its processes and the load process of each. */
interface Setup {
  readonly name: string
  readonly servers: ServerProcess[]
  readonly loads: LoadProcess[]
  active: boolean
}

/** One flip, in ms from the request: the answer, and the first and the last viewer (of all processes) having it. */
interface Flip {
  answerMs: number
  firstViewerMs: number
  lastViewerMs: number
  missed: number
}

export interface ReplicaResult {
  viewers: number
  replicas: number
  single: Flip[]
  shared: Flip[]
  /** One viewer on one process, one on one replica: nothing but the hop differs. */
  hop: { single: Flip[], shared: Flip[] }
  singleRssPerViewerBytes: number
  /** The mean over the replicas. */
  replicaRssPerViewerBytes: number
  duplicated: { single: number, shared: number }
}

const wallNow = () => performance.timeOrigin + performance.now()

/** Heartbeat or stop through the setup's first process; times until every viewer of every process has the answer. */
async function flip (setup: Setup): Promise<Flip> {
  await Promise.all(setup.loads.map((load) => load.arm()))
  const sentAt = wallNow()
  const first = setup.servers[0] as ServerProcess
  const answer = await serverRequest(first.port, 'POST', `/api/live/${setup.active ? 'stop' : 'heartbeat'}`, SESSION)
  const answeredAt = wallNow()
  setup.active = !setup.active
  const deliveries: Delivery[] = await Promise.all(setup.loads.map((load) => load.delivered(answer.body)))
  return {
    answerMs: answeredAt - sentAt,
    firstViewerMs: Math.min(...deliveries.map(({ firstAt }) => firstAt)) - sentAt,
    lastViewerMs: Math.max(...deliveries.map(({ lastAt }) => lastAt)) - sentAt,
    missed: deliveries.reduce((sum, { missed }) => sum + missed, 0)
  }
}

/** Starts the setup's processes, reads their RSS, connects `viewers` to each, reads it again: bytes per idle viewer. */
async function populate (setup: Setup, count: number, viewers: number, env: Record<string, string>, options: ReplicaOptions): Promise<number> {
  for (let index = 0; index < count; index++) {
    setup.servers.push(await ServerProcess.start('cc-live', { ttlSeconds: 60, logLevel: 'warn', nodeArgs: options.nodeArgs, env }))
  }
  const settle = options.memorySettleSeconds * 1000
  const before = await Promise.all(setup.servers.map((server) => server.settledRss(settle)))
  for (const [index, server] of setup.servers.entries()) {
    const load = new LoadProcess()
    setup.loads.push(load)
    await load.connect(server.port, viewers, 'websocket', (connected) => options.onProgress(`${setup.name} ${index + 1}`, connected))
  }
  const after = await Promise.all(setup.servers.map((server) => server.settledRss(settle)))
  return median(after.map((rss, index) => (rss - (before[index] as number)) / viewers))
}

/** Flips taken in turns on each setup, after `warmup` unmeasured ones. */
async function flipsInTurn (setups: { single: Setup, shared: Setup }, warmup: number, measured: number): Promise<{ single: Flip[], shared: Flip[] }> {
  const flips = { single: [] as Flip[], shared: [] as Flip[] }
  for (let turn = 0; turn < warmup + measured; turn++) {
    for (const [name, setup] of inTurn(turn, setups)) {
      const done = await flip(setup)
      if (turn >= warmup) flips[name].push(done)
    }
  }
  return flips
}

async function stop (setup: Setup): Promise<void> {
  await Promise.all(setup.servers.map((server) => server.stop()))
  await Promise.all(setup.loads.map((load) => load.stop()))
}

/**
 * `replicas` replicas on a fresh redis-server, each with `viewers` viewers, against one process
 * with `viewers` viewers: flips taken in turns, each through the first process of its setup.
 */
export async function measureReplicas (options: ReplicaOptions): Promise<ReplicaResult> {
  const redisPath = findRedisServer()
  if (redisPath === undefined) throw new Error(`--replicas needs Redis: ${REDIS_SERVER_MISSING}`)
  let redis: ChildProcess | undefined
  const single: Setup = { name: '1 process', servers: [], loads: [], active: false }
  const shared: Setup = { name: 'replica', servers: [], loads: [], active: false }
  const alone = { single: { ...single, servers: [], loads: [] }, shared: { ...shared, servers: [], loads: [] } }
  const all = [single, shared, alone.single, alone.shared]
  try {
    const redisPort = await freePort()
    redis = await spawnRedisServer(redisPath, redisPort)
    const onRedis = (prefix: string) => ({ CC_LIVE_REDIS_URL: `redis://127.0.0.1:${redisPort}`, CC_LIVE_REDIS_PREFIX: prefix })
    const singleRss = await populate(single, 1, options.viewers, {}, options)
    const replicaRss = await populate(shared, options.replicas, options.viewers, onRedis('crowd:'), options)
    const flips = await flipsInTurn({ single, shared }, options.warmupFlips, options.flips)
    const hopOptions = { ...options, memorySettleSeconds: 0 }
    await populate(alone.single, 1, 1, {}, hopOptions)
    await populate(alone.shared, 1, 1, onRedis('alone:'), hopOptions)
    const hop = await flipsInTurn(alone, options.warmupFlips, options.hopFlips)
    const duplicated = async (setup: Setup) => (await Promise.all(setup.loads.map((load) => load.counts()))).reduce((sum, { duplicated }) => sum + duplicated, 0)
    return {
      viewers: options.viewers,
      replicas: options.replicas,
      ...flips,
      hop,
      singleRssPerViewerBytes: singleRss,
      replicaRssPerViewerBytes: replicaRss,
      duplicated: { single: await duplicated(single), shared: await duplicated(shared) }
    }
  } finally {
    for (const setup of all) await stop(setup)
    redis?.kill('SIGKILL')
  }
}

export const REPLICA_TABLE_HEADER = '| metric | replicas | 1 process | ratio | target | met |\n|---|--:|--:|--:|--|--|'

/** The figures of a run: the replicas' beside the single process's. */
export function replicaRows ({ viewers, replicas, single, shared, hop, singleRssPerViewerBytes, replicaRssPerViewerBytes, duplicated }: ReplicaResult): Row[] {
  const at = (fraction: number, flips: Flip[], figure: (flip: Flip) => number) => percentile(flips.map(figure).sort((a, b) => a - b), fraction)
  const both = (fraction: number, figure: (flip: Flip) => number, flips = { single, shared }): [number, number] =>
    [at(fraction, flips.shared, figure), at(fraction, flips.single, figure)]
  const where = `${replicas} × ${viewers} viewers vs 1 × ${viewers}`
  const last = (flip: Flip) => flip.lastViewerMs
  // What a viewer costs: the fan-out over the viewers it reached (every replica's, or the one process's).
  const perViewer = (count: number) => (flip: Flip) => flip.lastViewerMs / count * 1000
  const [perReplicaViewer] = both(0.5, perViewer(replicas * viewers))
  const [, perSingleViewer] = both(0.5, perViewer(viewers))
  const alone = (fraction: number) => both(fraction, (flip) => flip.firstViewerMs, hop)
  const [hopP50, aloneP50] = alone(0.5)
  const [hopP99, aloneP99] = alone(0.99)
  return [
    comparisonRow('replica-fan-out-per-viewer', `fan-out per viewer reached (median fan-out / viewers), ${where}`, 'µs', perReplicaViewer, perSingleViewer, { ratioAtMost: 1.3 }),
    comparisonRow('replica-fan-out-median', `fan-out median (request to the last viewer), ${where}`, 'ms', ...both(0.5, last)),
    comparisonRow('replica-fan-out-p99', `fan-out p99, ${where}`, 'ms', ...both(0.99, last)),
    comparisonRow('replica-answer-p50', `heartbeat or stop answered, p50, ${where}`, 'ms', ...both(0.5, (flip) => flip.answerMs)),
    comparisonRow('replica-alone-p50', 'request to a lone viewer, p50 (one viewer, one process)', 'ms', hopP50, aloneP50),
    comparisonRow('replica-alone-p99', 'request to a lone viewer, p99 (one viewer, one process)', 'ms', hopP99, aloneP99),
    comparisonRow('replica-redis-hop-p50', 'added by the Redis hop, p50', 'ms', hopP50 - aloneP50, 0),
    comparisonRow('replica-redis-hop-p99', 'added by the Redis hop, p99', 'ms', hopP99 - aloneP99, 0),
    comparisonRow('replica-rss-per-idle-viewer', `RSS per idle viewer, ${viewers} viewers a process`, 'KiB', replicaRssPerViewerBytes / 1024, singleRssPerViewerBytes / 1024, { ratioAtMost: 1.2 }),
    comparisonRow('replica-missed', 'missed messages', '', sumOf(shared, (flip) => flip.missed), sumOf(single, (flip) => flip.missed), { equals: 0 }),
    comparisonRow('replica-duplicated', 'duplicated messages', '', duplicated.shared, duplicated.single, { equals: 0 })
  ]
}

function sumOf (flips: Flip[], figure: (flip: Flip) => number): number {
  return flips.reduce((sum, flip) => sum + figure(flip), 0)
}
