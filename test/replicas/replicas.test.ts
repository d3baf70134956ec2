import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { PublicState } from '../../src/live/public-state.ts'
import { redisConnection } from '../helpers/live-stores.ts'
import { ReconnectingViewer } from '../helpers/reconnecting-viewer.ts'
import { redisMissing, startRedisServer, type RedisServer } from '../helpers/redis-server.ts'
import { answeredState, apiCall, logLines, startReplicas } from '../helpers/replicas.ts'
import { startRoundRobinProxy } from '../helpers/round-robin-proxy.ts'
import type { ServerProcess } from '../helpers/server-process.ts'
import { IS_OFFLINE } from '../helpers/states.ts'
import { openViewer, type ViewerClient } from '../helpers/viewer.ts'

// Three replicas of the built server as processes, sharing one real redis-server.

const viewerOf = async (server: ServerProcess): Promise<ViewerClient> => openViewer(`ws://127.0.0.1:${server.port}/ws/live`)
const seqs = (states: PublicState[]) => states.map(({ seq }) => seq)
const occurrences = (server: ServerProcess, message: string) => logLines(server).filter((line) => line.msg === message).length
const UNREACHABLE = 'Redis unreachable: the private API answers 503 until it is back; viewers keep the last state'
const REACHABLE = 'Redis reachable again: the private API answers again'

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  t.setTimeout(180_000)

  t.test('a heartbeat through replica A reaches viewers on A, B and C exactly once', async (t) => {
    const redis = await startRedisServer(t)
    const { servers } = await startReplicas(t, redis.url, 3)
    const [a, , c] = servers as [ServerProcess, ServerProcess, ServerProcess]
    const viewers = await Promise.all(servers.map(viewerOf))
    for (const viewer of viewers) t.match(await viewer.nth(1), IS_OFFLINE)
    const live = answeredState(await apiCall(a.port, '/heartbeat', { session_id: 'x', status: 'working' }))
    const offline = answeredState(await apiCall(c.port, '/stop', { session_id: 'x' }))
    for (const [index, viewer] of viewers.entries()) {
      t.same(await viewer.upTo(3), [viewer.messages[0], live, offline], `viewer on replica ${'ABC'[index]}: the change once, then the next`)
    }
  })

  t.test('200 rapid mixed changes through random replicas: every viewer ends on the same state, seq strictly increasing, none twice', async (t) => {
    const redis = await startRedisServer(t)
    const { servers } = await startReplicas(t, redis.url, 3)
    const viewers = (await Promise.all([...servers, ...servers, ...servers].map(viewerOf)))
    for (const viewer of viewers) await viewer.nth(1)
    const statuses = ['working', 'waiting', 'idle', 'live'] as const
    const change = (index: number) => {
      const { port } = servers[Math.floor(Math.random() * servers.length)] as ServerProcess
      const sessionId = `s${Math.floor(Math.random() * 5)}`
      const roll = Math.random()
      if (roll < 0.1) return apiCall(port, '/stop', { session_id: sessionId })
      if (roll < 0.13) return apiCall(port, '/stop')
      return apiCall(port, '/heartbeat', { session_id: sessionId, status: statuses[index % statuses.length] })
    }
    let next = 0
    const worker = async () => {
      while (next < 200) t.equal((await change(next++)).status, 200)
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    const final = answeredState(await apiCall(servers[0]?.port ?? 0, '/heartbeat', { session_id: 'final', status: 'waiting' }))
    const [first] = viewers as [ViewerClient]
    await first.upTo(final.seq - first.messages[0]!.seq + 1)
    const history = first.messages
    t.same(seqs(history), Array.from({ length: history.length }, (_, index) => history[0]!.seq + index), 'each seq once, in order')
    t.same(history.at(-1), final, 'the last is the final state')
    for (const viewer of viewers) t.same(await viewer.upTo(history.length), history, 'every viewer on every replica saw the same')
  })

  t.test('expiry with three replicas: one published change, not three', async (t) => {
    const redis = await startRedisServer(t)
    const { servers, env } = await startReplicas(t, redis.url, 3, { CC_LIVE_TTL_SECONDS: '1' })
    const published: string[] = []
    const subscriber = await redisConnection(t, redis.url)
    subscriber.on('message', (_channel: string, message: string) => published.push(message))
    await subscriber.subscribe(`${env.CC_LIVE_REDIS_PREFIX}changes`)
    const viewers = await Promise.all(servers.map(viewerOf))
    for (const viewer of viewers) await viewer.nth(1)
    answeredState(await apiCall(servers[0]?.port ?? 0, '/heartbeat', { session_id: 'x' }))
    for (const viewer of viewers) t.match(await viewer.nth(3), IS_OFFLINE, 'offline at the deadline')
    // Whatever the other timers do after, they find the state offline already: one more change shows they published nothing.
    const again = answeredState(await apiCall(servers[1]?.port ?? 0, '/heartbeat', { session_id: 'y' }))
    for (const viewer of viewers) t.same(await viewer.nth(4), again)
    t.same(published.map((message) => (JSON.parse(message.slice(message.indexOf('\n') + 1)) as PublicState).seq), [1, 2, 3],
      'live, offline once, live')
  })

  t.test('SIGKILL of replica A: its viewers reconnect through the proxy to the others and never show offline', async (t) => {
    const redis = await startRedisServer(t)
    const { servers } = await startReplicas(t, redis.url, 3)
    const proxy = await startRoundRobinProxy(t, servers.map(({ port }) => port))
    const live = answeredState(await apiCall(proxy.port, '/heartbeat', { session_id: 'x', status: 'working' }))
    const viewers = Array.from({ length: 30 }, () => new ReconnectingViewer(`ws://127.0.0.1:${proxy.port}/ws/live`, true))
    t.teardown(() => { for (const viewer of viewers) viewer.close() })
    await Promise.all(viewers.map((viewer) => viewer.when((v) => v.last?.seq === live.seq)))

    const [a] = servers as [ServerProcess]
    a.child.kill('SIGKILL')
    await a.exited
    const next = answeredState(await apiCall(proxy.port, '/heartbeat', { session_id: 'x', status: 'waiting' }))
    await Promise.all(viewers.map((viewer) => viewer.when((v) => v.open && (v.last?.seq ?? 0) >= next.seq)))
    const reconnected = viewers.filter((viewer) => viewer.connections > 1).length
    t.ok(reconnected > 0 && reconnected < viewers.length, `${reconnected} of ${viewers.length} viewers were on A and reconnected`)
    for (const viewer of viewers) {
      t.notOk(viewer.wentOffline, 'never offline')
      t.equal(viewer.wentBack, 0, 'seq never back')
      t.same(viewer.last, next, 'on the current state')
    }
  })

  t.test('Redis away: viewers keep their connection and state, the API 503s, /healthz says so, one warning each way', async (t) => {
    const redis = await startRedisServer(t)
    const { servers } = await startReplicas(t, redis.url, 3)
    let live = answeredState(await apiCall(servers[0]?.port ?? 0, '/heartbeat', { session_id: 'x', status: 'working' }))
    const viewers = servers.map((server) => new ReconnectingViewer(`ws://127.0.0.1:${server.port}/ws/live`, true))
    t.teardown(() => { for (const viewer of viewers) viewer.close() })
    await Promise.all(viewers.map((viewer) => viewer.when((v) => v.last?.seq === live.seq)))

    const outage = async (what: string, begin: (redis: RedisServer) => Promise<void>, end: (redis: RedisServer) => Promise<void>, round: number) => {
      await begin(redis)
      for (const server of servers) {
        const answer = await apiCall(server.port, '/heartbeat', { session_id: 'x', status: 'waiting' })
        t.equal(answer.status, 503, `${what}: the API answers 503`)
        t.equal(answer.retryAfter, '5', 'with Retry-After')
        t.match(JSON.parse(answer.body), { code: 'CC_LIVE_UNAVAILABLE' })
        await server.outputUntil(() => occurrences(server, UNREACHABLE) === round)
        const health = await fetch(`http://127.0.0.1:${server.port}/healthz`)
        t.equal(health.status, 200, '/healthz stays 200')
        t.same(await health.json(), { status: 'degraded', redis: 'unreachable' })
      }
      await end(redis)
      for (const server of servers) await server.outputUntil(() => occurrences(server, REACHABLE) === round)
      for (const viewer of viewers) t.same(viewer.last, live, `${what}: viewers were told nothing meanwhile`)
      const back = answeredState(await apiCall(servers[round % 3]?.port ?? 0, '/heartbeat', { session_id: 'x', status: round === 1 ? 'waiting' : 'idle' }))
      t.ok(back.seq > live.seq, 'the next heartbeat is published with the next seq')
      t.equal(back.since, live.since, 'in the same live period')
      live = back
      await Promise.all(viewers.map((viewer) => viewer.when((v) => v.last?.seq === live.seq)))
      for (const server of servers) t.same(await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).json(), { status: 'ok', redis: 'reachable' })
    }

    await outage('SIGSTOP for 5 s', async (redis) => redis.pause(), async (redis) => {
      // The length of the outage is the scenario itself, not a wait for something.
      await sleep(5000)
      redis.resume()
    }, 1)
    await outage('killed and restarted empty', (redis) => redis.kill(), (redis) => redis.restart(), 2)

    for (const server of servers) {
      t.equal(occurrences(server, UNREACHABLE), 2, 'one warning per outage')
      t.equal(occurrences(server, REACHABLE), 2, 'one when it came back')
    }
    for (const viewer of viewers) {
      t.equal(viewer.connections, 1, 'no viewer lost its connection')
      t.notOk(viewer.wentOffline, 'none was shown offline')
      t.equal(viewer.repeatedOnConnection, 0, 'nor anything twice or backwards')
    }
  })

  t.test('the failure limit across replicas: ten wrong keys spread over three lock the address on all three', async (t) => {
    const redis = await startRedisServer(t)
    const { servers } = await startReplicas(t, redis.url, 3)
    for (let failure = 0; failure < 10; failure++) {
      const server = servers[failure % 3] as ServerProcess
      t.equal((await apiCall(server.port, '/heartbeat', {}, 'wrong-key-0123456789abc')).status, 401)
    }
    for (const server of servers) {
      const answer = await apiCall(server.port, '/heartbeat')
      t.equal(answer.status, 429, 'even with the right key')
      t.ok(Number(answer.retryAfter) > 0 && Number(answer.retryAfter) <= 600, `Retry-After ${answer.retryAfter} s`)
    }
  })
}
