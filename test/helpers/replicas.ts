import { request } from 'node:http'
import type { Test } from 'tap'
import type { PublicState } from '../../src/live/public-state.ts'
import { TEST_KEY } from './app.ts'
import { freshPrefix } from './live-stores.ts'
import { startServer, type ServerProcess } from './server-process.ts'

/** Room for every test viewer, all of which come from 127.0.0.1. */
const ROOMY = { CC_LIVE_MAX_VIEWERS: '10000', CC_LIVE_MAX_VIEWERS_PER_IP: '10000', CC_LIVE_MAX_CONNECTIONS_PER_IP: '10001' }

export interface Replicas {
  readonly env: Record<string, string>
  /** Before every key of theirs on the server. */
  readonly prefix: string
  readonly servers: ServerProcess[]
  /** Starts one more replica of the built server on the same state. */
  start (): Promise<ServerProcess>
}

/** `count` replicas of the built server, as processes, sharing the state under a fresh prefix on `redisUrl`. */
export async function startReplicas (t: Test, redisUrl: string, count: number, extraEnv: Record<string, string> = {}): Promise<Replicas> {
  const prefix = freshPrefix()
  const env = { CC_LIVE_API_KEY: TEST_KEY, CC_LIVE_REDIS_URL: redisUrl, CC_LIVE_REDIS_PREFIX: prefix, ...ROOMY, ...extraEnv }
  const servers: ServerProcess[] = []
  const start = async () => {
    const server = await startServer(t, env)
    servers.push(server)
    return server
  }
  // One after the other, as a deploy starts them; together they would only contend for the cores.
  for (let index = 0; index < count; index++) await start()
  return { env, prefix, servers, start }
}

export interface ApiAnswer {
  status: number
  retryAfter: string | undefined
  body: string
}

/**
 * One call to the private API on its own connection (no keep-alive), as the daemon's curl makes
 * it, so a round-robin proxy in front sends each call to the next replica.
 */
export function apiCall (port: number, path: '/heartbeat' | '/stop', body: object = {}, key = TEST_KEY): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1',
      port,
      path: `/api/live${path}`,
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    }, (incoming) => {
      let text = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => { text += chunk })
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, retryAfter: incoming.headers['retry-after'], body: text }))
    })
    outgoing.on('error', reject)
    outgoing.end(JSON.stringify(body))
  })
}

/** The state a 200 answer carries. */
export function answeredState (answer: ApiAnswer): PublicState {
  if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}: ${answer.body}`)
  return JSON.parse(answer.body) as PublicState
}

/** The process's log lines, parsed. */
export function logLines (server: ServerProcess): Array<Record<string, unknown>> {
  return server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
}
