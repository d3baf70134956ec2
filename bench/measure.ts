import { setTimeout as sleep } from 'node:timers/promises'
import { ChangeNotDelivered, Crowd } from './crowd.js'
import { heartbeatLoad, type HeartbeatLoad, type HeartbeatLoadOptions } from './heartbeat-load.js'
import { post, ServerProcess, type ServerName } from './servers.js'

const OFFLINE = JSON.stringify({ active: false, since: null, sessions: 0 })
const SESSION = '{"session_id":"bench"}'
/** Longer than any fan-out could honestly take: past it, the viewers still waiting missed the change. */
const DELIVERY_TIMEOUT_MS = 15_000
/** Idle time after connecting, so handshake garbage and buffers settle before memory is read. */
const SETTLE_MS = 1000

export interface CrowdOptions {
  viewers: number
  warmupFlips: number
  flips: number
  expiries: number
  ttlSeconds: number
  onProgress: (connected: number) => void
}

export interface CrowdResult {
  viewers: number
  rssPerViewerBytes: number
  /** Request sent to the last viewer having the new state, per measured flip. */
  fanOutMs: number[]
  /** Last viewer having `active:false` past the session's deadline, per expiry. */
  expiryLatenessMs: number[]
  missed: number
  duplicated: number
}

/** One fresh server: its memory per idle viewer, then fan-out flips and expiries to all of them. */
export async function measureCrowd (name: ServerName, options: CrowdOptions): Promise<CrowdResult> {
  const server = await ServerProcess.start(name, { ttlSeconds: options.ttlSeconds, logLevel: 'warn' })
  let crowd: Crowd | undefined
  try {
    const rssBefore = await server.rssAfterGc()
    crowd = await Crowd.connect(server.port, options.viewers, options.onProgress)
    await sleep(SETTLE_MS)
    const rssPerViewerBytes = (await server.rssAfterGc() - rssBefore) / options.viewers
    return { viewers: options.viewers, rssPerViewerBytes, ...await changes(server.port, crowd, options) }
  } finally {
    // Server first: its side then closes the connections, and the load process keeps no ports in TIME_WAIT.
    await server.stop()
    crowd?.close()
  }
}

async function changes (port: number, crowd: Crowd, { warmupFlips, flips, expiries, ttlSeconds }: CrowdOptions) {
  const fanOutMs: number[] = []
  const expiryLatenessMs: number[] = []
  let missed = 0
  let active = false
  /** Heartbeat or stop, whichever changes the state; the time until every viewer has the answer's state. */
  const flip = async (): Promise<number> => {
    const delivered = crowd.nextChange(DELIVERY_TIMEOUT_MS)
    const sentAt = performance.now()
    const [deliveredAt, answer] = await Promise.all([delivered, post(port, `/api/live/${active ? 'stop' : 'heartbeat'}`, SESSION)])
    active = !active
    missed += crowd.notHaving(answer.body)
    return deliveredAt - sentAt
  }
  try {
    for (let i = 0; i < warmupFlips; i++) await flip()
    for (let i = 0; i < flips; i++) fanOutMs.push(await flip())
    for (let i = 0; i < expiries; i++) {
      if (active) await flip()
      const sentAt = performance.now()
      await flip()
      const expiredAt = await crowd.nextChange(ttlSeconds * 1000 + DELIVERY_TIMEOUT_MS)
      active = false
      missed += crowd.notHaving(OFFLINE)
      // Measured from when the heartbeat was sent, so lateness is overstated by its latency, never understated.
      expiryLatenessMs.push(expiredAt - (sentAt + ttlSeconds * 1000))
    }
  } catch (error) {
    if (!(error instanceof ChangeNotDelivered)) throw error
    missed += error.missing
  }
  return { fanOutMs, expiryLatenessMs, missed, duplicated: crowd.duplicated }
}

/** Heartbeat throughput and latency of one fresh server with no viewers. */
export async function measureHeartbeats (name: ServerName, logLevel: string, options: HeartbeatLoadOptions): Promise<HeartbeatLoad> {
  const server = await ServerProcess.start(name, { ttlSeconds: 60, logLevel })
  try {
    return await heartbeatLoad(server.port, options)
  } finally {
    await server.stop()
  }
}
