import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { RedisHistoryStore } from '../../src/history/redis-store.ts'
import type { DayTimes, HistoryStore, Stretch } from '../../src/history/store.ts'
import { liveStateKeys } from '../../src/live/redis-store.ts'
import type { SessionEvent } from '../../src/live/store.ts'
import { historyOf } from '../helpers/history.ts'
import { redisConnection } from '../helpers/live-stores.ts'
import { redisMissing, startRedisServer } from '../helpers/redis-server.ts'
import { answeredState, apiCall, startReplicas } from '../helpers/replicas.ts'
import type { ServerProcess } from '../helpers/server-process.ts'

// The history of three replicas of the built server as processes, on one real redis-server, against
// the history one process records from the same events.

const RECORDING = 'recording the history: this replica holds the lease'
/**
 * The most two counts may differ, in ms: the recorder counts up to its clock every second, and an
 * event that reaches it a millisecond after a count is placed there, not before. One process hears
 * each event as it happens.
 */
const SLACK_MS = 50

const recording = (server: ServerProcess) => server.outputUntil((output) => output.includes(RECORDING))

/** Every session event the replicas logged, in commit order. */
async function loggedEvents (t: Test, url: string, prefix: string): Promise<SessionEvent[]> {
  const entries = await (await redisConnection(t, url)).xrange(liveStateKeys(prefix).sessionLog, '-', '+')
  return entries.flatMap(([, fields]) => JSON.parse(fields[1] as string) as SessionEvent[])
}

/** What the two histories hold, and how far apart their counts are at most. */
async function compare (shared: HistoryStore, alone: HistoryStore) {
  const dayRange = ['2000-01-01', '2100-01-01'] as const
  const [sharedDays, aloneDays] = [await shared.days(...dayRange), await alone.days(...dayRange)]
  const [sharedStretches, aloneStretches] = [await shared.stretches(1000), await alone.stretches(1000)]
  const byStart = (stretches: Stretch[]) => stretches.toSorted((a, b) => a.startMs - b.startMs)
  const dayGap = (a: DayTimes, b: DayTimes | undefined) =>
    b === undefined ? Infinity : Math.max(Math.abs(a.activeMs - b.activeMs), Math.abs(a.workingMs - b.workingMs), Math.abs(a.waitingMs - b.waitingMs))
  const stretchGap = (a: Stretch, b: Stretch | undefined) => b === undefined || a.status !== b.status || a.sessionId !== b.sessionId
    ? Infinity
    : Math.max(Math.abs(a.startMs - b.startMs), Math.abs((a.endMs ?? 0) - (b.endMs ?? 0)),
      ...(['working', 'waiting', 'idle', 'live'] as const).map((status) => Math.abs(a.ms[status] - b.ms[status])))
  const aloneByStart = byStart(aloneStretches)
  return {
    sharedDays,
    sharedStretches,
    days: sharedDays.map(({ date }) => date).join() === aloneDays.map(({ date }) => date).join(),
    stretches: sharedStretches.length === aloneStretches.length,
    gapMs: Math.max(0, ...sharedDays.map((day, index) => dayGap(day, aloneDays[index])),
      ...byStart(sharedStretches).map((stretch, index) => stretchGap(stretch, aloneByStart[index])))
  }
}

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  t.setTimeout(180_000)

  t.test('changes through random replicas: the days and sessions one process records from the same events; every replica reads the same', async (t) => {
    const redis = await startRedisServer(t)
    const replicas = await startReplicas(t, redis.url, 3)
    const { servers, prefix } = replicas
    const [first] = servers as [ServerProcess]
    await recording(first)
    const statuses = ['working', 'waiting', 'idle', 'live'] as const
    const pick = <Item>(items: readonly Item[]): Item => items[Math.floor(Math.random() * items.length)] as Item
    for (let change = 0; change < 80; change++) {
      const { port } = pick(servers)
      const sessionId = pick(['s0', 's1', 's2', 's3'])
      const roll = Math.random()
      const answer = roll < 0.7
        ? await apiCall(port, '/heartbeat', { session_id: sessionId, status: pick(statuses), ...(roll < 0.3 && { activity: { project: pick(['blog', 'cc-live']) } }) })
        : roll < 0.85 ? await apiCall(port, '/heartbeat', { session_id: sessionId }) : roll < 0.98 ? await apiCall(port, '/stop', { session_id: sessionId }) : await apiCall(port, '/stop')
      t.equal(answer.status, 200)
      // How long the sessions stay as they are: the scenario itself, 0.1 s on average.
      await sleep(Math.random() * 200)
    }
    answeredState(await apiCall(first.port, '/stop'))
    // The recorder shuts down (it reads the log to its end and writes it); another takes over, and one more replica joins.
    first.child.kill('SIGTERM')
    t.match(await first.exited, { code: 0 })
    const running = [...servers.slice(1), await replicas.start()]

    for (const url of ['/ws/live/history', '/ws/live/sessions?limit=100', '/ws/live/history.svg?theme=dark']) {
      const answers = await Promise.all(running.map(async ({ port }) => (await fetch(`http://127.0.0.1:${port}${url}`)).text()))
      t.ok(answers.every((answer) => answer === answers[0]), `${url}: every replica answers the same`)
    }
    const shared = new RedisHistoryStore({ redis: await redisConnection(t, redis.url), prefix })
    const events = await loggedEvents(t, redis.url, prefix)
    const { days, stretches, gapMs, sharedStretches } = await compare(shared, await historyOf(events))
    t.ok(days, 'the same days')
    t.ok(stretches, `the same sessions: ${sharedStretches.length}, from ${events.length} events`)
    t.ok(gapMs <= SLACK_MS, `each count within ${SLACK_MS} ms of one process's: ${gapMs} ms at most`)
    t.same((await shared.load()).open, [], 'none left open')
  })

  t.test('SIGKILL of the recording replica mid-stretch: another takes over, and the stretch is counted once, nothing lost', async (t) => {
    const redis = await startRedisServer(t)
    const { servers, prefix } = await startReplicas(t, redis.url, 3)
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess]
    await recording(a)
    const client = await redisConnection(t, redis.url)
    const started = answeredState(await apiCall(b.port, '/heartbeat', { session_id: 'x', status: 'working' }))
    // The stretch runs, and changes, while the recorder writes it every second: the scenario's own time.
    await sleep(1500)
    answeredState(await apiCall(c.port, '/heartbeat', { session_id: 'x', status: 'waiting' }))
    await sleep(1200)

    a.child.kill('SIGKILL')
    const killedAt = Date.now()
    await a.exited
    const recordedUntil = Number(await client.hget(`${prefix}history:meta`, 'recordedUntilMs'))
    t.ok(killedAt - recordedUntil <= 1000 + SLACK_MS, `the history in Redis was counted to ${killedAt - recordedUntil} ms before the kill`)
    answeredState(await apiCall(c.port, '/heartbeat', { session_id: 'x', status: 'idle' }))
    const next = await Promise.race([b, c].map(async (server) => { await recording(server); return server }))
    const takeoverMs = Date.now() - killedAt
    t.ok(takeoverMs < 5000, `another replica took over ${takeoverMs} ms after the kill`)
    const stopped = answeredState(await apiCall(b.port, '/stop', { session_id: 'x' }))
    next.child.kill('SIGTERM')
    await next.exited

    const shared = new RedisHistoryStore({ redis: client, prefix })
    const events = await loggedEvents(t, redis.url, prefix)
    t.same(events.map(({ type }) => type), ['start', 'change', 'change', 'end'])
    const { sharedDays, sharedStretches, gapMs } = await compare(shared, await historyOf(events))
    const lengthMs = Date.parse(stopped.lastSeen ?? '') - Date.parse(started.since ?? '')
    t.equal(sharedStretches.length, 1, 'one stretch')
    const [stretch] = sharedStretches as [Stretch]
    const counted = stretch.ms.working + stretch.ms.waiting + stretch.ms.idle + stretch.ms.live
    t.ok(Math.abs(counted - lengthMs) <= SLACK_MS, `the stretch lasted ${lengthMs} ms and ${counted} ms are counted: not doubled, not lost`)
    t.ok(Math.abs((sharedDays[0]?.activeMs ?? 0) - lengthMs) <= SLACK_MS, 'and so is the day')
    t.ok(gapMs <= SLACK_MS, `each count within ${SLACK_MS} ms of one process's from the same events: ${gapMs} ms at most`)
  })
}
