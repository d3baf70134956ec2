import autocannon from 'autocannon'
import { AUTHORIZATION, serverRequest, type ServerProcess } from './servers.ts'
import { median, percentile } from './statistics.ts'

export interface HeartbeatLoad {
  /** autocannon, `connections` at once, as fast as the server answers. */
  requestsPerSecond: number
  /** autocannon's p99 under that load; it records whole milliseconds. */
  loadedP99Ms: number
  /** Server CPU time per request under that load: steadier than throughput on a shared machine. */
  cpuMicrosPerRequest: number
  /** One heartbeat at a time, as the laptop sends them, timed here to the microsecond. */
  latencyP50Ms: number
  latencyP99Ms: number
  /** Requests that failed or were not answered 2xx: must be zero. */
  failed: number
}

export interface HeartbeatLoadOptions {
  connections: number
  /** Length of one burst. */
  seconds: number
  /** Bursts per server, taken in turns with the other servers. */
  rounds: number
  /** Heartbeats sent one at a time per round, for latency. */
  sequential: number
}

const BODY = '{"session_id":"bench"}'

/** One round against one server: heartbeats one at a time, then a burst of them from autocannon. */
export async function heartbeatRound (server: ServerProcess, { connections, seconds, sequential }: Omit<HeartbeatLoadOptions, 'rounds'>): Promise<HeartbeatLoad> {
  const latencies: number[] = []
  let failed = 0
  for (let i = 0; i < sequential; i++) {
    const sentAt = performance.now()
    const { status } = await serverRequest(server.port, 'POST', '/api/live/heartbeat', BODY)
    latencies.push(performance.now() - sentAt)
    if (status !== 200) failed++
  }
  latencies.sort((a, b) => a - b)
  const cpuBefore = server.cpuSeconds()
  const burst = await autocannon({
    url: `http://127.0.0.1:${server.port}/api/live/heartbeat`,
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: BODY,
    connections,
    duration: seconds
  })
  const cpuMicros = (server.cpuSeconds() - cpuBefore) * 1e6
  return {
    requestsPerSecond: burst.requests.average,
    loadedP99Ms: burst.latency.p99,
    cpuMicrosPerRequest: cpuMicros / burst.requests.total,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    failed: failed + burst.errors + burst.non2xx
  }
}

/** Several rounds as one: the median of each figure, the sum of failures. */
export function combineRounds (rounds: HeartbeatLoad[]): HeartbeatLoad {
  const medianOf = (figure: (round: HeartbeatLoad) => number) => median(rounds.map(figure))
  return {
    requestsPerSecond: medianOf((round) => round.requestsPerSecond),
    loadedP99Ms: medianOf((round) => round.loadedP99Ms),
    cpuMicrosPerRequest: medianOf((round) => round.cpuMicrosPerRequest),
    latencyP50Ms: medianOf((round) => round.latencyP50Ms),
    latencyP99Ms: medianOf((round) => round.latencyP99Ms),
    failed: rounds.reduce((total, round) => total + round.failed, 0)
  }
}
