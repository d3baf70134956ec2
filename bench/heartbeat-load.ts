import autocannon from 'autocannon'
import { AUTHORIZATION } from './servers.js'

export interface HeartbeatLoad {
  requestsPerSecond: number
  latencyMeanMs: number
  latencyP99Ms: number
  /** Requests that failed or were not answered 2xx: must be zero. */
  failed: number
}

export interface HeartbeatLoadOptions {
  connections: number
  seconds: number
}

/** Heartbeats for one session as fast as the server answers them (after a short warm-up). */
export async function heartbeatLoad (port: number, { connections, seconds }: HeartbeatLoadOptions): Promise<HeartbeatLoad> {
  const fire = (duration: number) => autocannon({
    url: `http://127.0.0.1:${port}/api/live/heartbeat`,
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: '{"session_id":"bench"}',
    connections,
    duration
  })
  await fire(Math.min(1, seconds))
  const result = await fire(seconds)
  return {
    requestsPerSecond: result.requests.average,
    latencyMeanMs: result.latency.average,
    latencyP99Ms: result.latency.p99,
    failed: result.errors + result.non2xx
  }
}
