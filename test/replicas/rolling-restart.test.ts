import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { PublicState } from '../../src/live/public-state.ts'
import type { SwarmReport } from '../helpers/reconnecting-swarm.ts'
import { redisMissing, startRedisServer } from '../helpers/redis-server.ts'
import { answeredState, apiCall, startReplicas } from '../helpers/replicas.ts'
import { startRoundRobinProxy } from '../helpers/round-robin-proxy.ts'
import type { ServerProcess } from '../helpers/server-process.ts'
import { WorkerCrowd } from '../helpers/worker-crowd.ts'

// A rolling deploy of three replicas under a crowd: the promise of replicas is that nobody notices.
// Bounded for a 2-core machine shared with other work: 3000 viewers, three restarts, a heartbeat a second.
const VIEWERS = 3000

/** The crowd, in a worker thread; see test/helpers/reconnecting-swarm.ts. */
class Swarm extends WorkerCrowd {
  constructor (url: string) {
    super(new URL('../helpers/reconnecting-swarm.ts', import.meta.url), { url, count: VIEWERS, connectingAtOnce: 250 })
  }

  /** Once every viewer is connected and has seen `seq`: what they have seen so far. */
  async caughtUp (seq: number): Promise<SwarmReport> {
    return await this.ask({ until: seq }) as SwarmReport
  }
}

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  // Connecting the crowd and three restarts take about a minute here, more on a busy machine: past tap's 30 s per file.
  t.setTimeout(300_000)
  t.test(`rolling restart of three replicas, one by one, under ${VIEWERS} viewers and a heartbeat a second: no viewer sees offline`, { timeout: 240_000 }, async (t) => {
    const redis = await startRedisServer(t)
    const replicas = await startReplicas(t, redis.url, 3)
    const proxy = await startRoundRobinProxy(t, replicas.servers.map(({ port }) => port))
    let latest = answeredState(await apiCall(proxy.port, '/heartbeat', { session_id: 'laptop', status: 'working' }))

    const swarm = new Swarm(`ws://127.0.0.1:${proxy.port}/ws/live`)
    await swarm.connected()
    await swarm.caughtUp(latest.seq)

    // The daemon: a heartbeat a second, each flipping the status so every one is a change to deliver.
    let beats = 0
    let failed = 0
    const stopBeating = new AbortController()
    const daemon = (async () => {
      while (!stopBeating.signal.aborted) {
        const status = beats++ % 2 === 0 ? 'waiting' : 'working'
        const answer = await apiCall(proxy.port, '/heartbeat', { session_id: 'laptop', status }).catch(() => null)
        if (answer?.status === 200) {
          const state = JSON.parse(answer.body) as PublicState
          if (state.seq > latest.seq) latest = state
        } else failed++
        // The daemon's pace, part of the scenario.
        await sleep(1000, undefined, { signal: stopBeating.signal }).catch(() => {})
      }
    })()

    const started = Date.now()
    for (let index = 0; index < 3; index++) {
      const old = replicas.servers[index] as ServerProcess
      proxy.backends = proxy.backends.filter((port) => port !== old.port)
      old.child.kill('SIGTERM')
      t.same(await old.exited, { code: 0, signal: null }, `replica ${index + 1} stopped cleanly`)
      const fresh = await replicas.start()
      replicas.servers[index] = fresh
      proxy.backends.push(fresh.port)
      const report = await swarm.caughtUp(latest.seq)
      t.comment(`replica ${index + 1} restarted; ${report.reconnected} viewers have reconnected so far, ${report.messages} messages delivered`)
    }
    stopBeating.abort()
    await daemon
    const report = await swarm.caughtUp(latest.seq)
    t.comment(`${VIEWERS} viewers, 3 restarts in ${((Date.now() - started) / 1000).toFixed(1)} s, ${beats} heartbeats (${failed} not answered 200, retried at the next), ${report.connections} connections`)
    t.equal(report.wentOffline, 0, 'no viewer was shown offline')
    t.equal(report.wentBack, 0, 'no viewer\'s seq went back')
    t.equal(report.repeated, 0, 'no viewer got a state twice on one connection')
    t.ok(report.reconnected >= VIEWERS * 0.9, `viewers moved between replicas (${report.reconnected})`)
    await swarm.leave()
  })
}
