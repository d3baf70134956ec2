import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { historyKeys, RedisHistoryStore } from '../../src/history/redis-store.ts'
import { liveStateKeys } from '../../src/live/redis-store.ts'
import { AUTH, TEST_ENV } from '../helpers/app.ts'
import { freshPrefix, redisConnection } from '../helpers/live-stores.ts'
import { captureLogs } from '../helpers/logs.ts'
import { redisMissing, startRedisServer } from '../helpers/redis-server.ts'

// The history with CC_LIVE_REDIS_URL set: the app as each replica runs it, on a real redis-server.

const RECORDING = 'recording the history: this replica holds the lease'

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  const redis = await startRedisServer(t)

  /** One replica sharing the state (and the history) under `prefix`, ready. */
  async function replica (t: Test, prefix: string, env: Record<string, string> = {}) {
    const logs = captureLogs()
    const app = buildApp({ logger: logs.logger, env: { ...TEST_ENV, ...logs.env, CC_LIVE_REDIS_URL: redis.url, CC_LIVE_REDIS_PREFIX: prefix, ...env } })
    t.teardown(() => app.close())
    await app.ready()
    return { app, logs }
  }

  const beat = (app: Awaited<ReturnType<typeof replica>>['app'], payload: object) =>
    app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload })

  t.test('one replica records, into Redis; on shutdown it writes what it counted and another takes over; every replica reads the same', async (t) => {
    const prefix = freshPrefix()
    const a = await replica(t, prefix)
    await a.logs.until(RECORDING)
    const b = await replica(t, prefix)
    t.match(b.logs.lines, [{ msg: 'connected to Redis: the live state is shared' }, { msg: 'history recorded in Redis by one replica at a time', timeZone: 'UTC', retentionDays: 400 }])
    t.notOk(b.logs.lines.some(({ msg }) => msg === RECORDING), 'the second does not record while the first does')

    const started = (await beat(b.app, { session_id: 'x', status: 'working', activity: { project: 'blog' } })).json()
    await a.app.close()
    t.ok(a.logs.lines.some(({ msg }) => msg === 'no longer recording the history'))
    await b.logs.until(RECORDING)
    const sessions = (await b.app.inject('/ws/live/sessions')).json().sessions
    t.match(sessions, [{ start: started.since, end: null, activity: { project: 'blog' } }], 'the session as the first recorded it, open')
    t.ok(sessions[0].seconds.working >= 0)
    const history = await b.app.inject('/ws/live/history')
    t.equal(history.statusCode, 200)
    t.equal(history.json().today.date, new Date().toISOString().slice(0, 10))

    const stopped = (await b.app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH })).json()
    await b.app.close()
    const [stretch] = await new RedisHistoryStore({ redis: await redisConnection(t, redis.url), prefix }).stretches(10)
    t.match(stretch, { startMs: Date.parse(started.since), endMs: Date.parse(stopped.lastSeen), sessionId: null })
    t.equal(stretch?.ms.working, Date.parse(stopped.lastSeen) - Date.parse(started.since), 'counted once, across the handover')
  })

  t.test('Redis out of reach: the history routes answer 503 with Retry-After; when it is back, they answer again and recording goes on', async (t) => {
    const prefix = freshPrefix()
    const { app, logs } = await replica(t, prefix)
    await logs.until(RECORDING)
    const started = (await beat(app, { session_id: 'x', status: 'waiting' })).json()
    redis.pause()
    try {
      for (const url of ['/ws/live/history', '/ws/live/sessions', '/ws/live/history.svg']) {
        const answer = await app.inject(url)
        t.equal(answer.statusCode, 503, url)
        t.equal(answer.headers['retry-after'], '5')
        t.match(answer.json(), { code: 'CC_LIVE_UNAVAILABLE' })
      }
    } finally {
      redis.resume()
    }
    await logs.until('Redis reachable again: the private API answers again')
    t.equal((await app.inject('/ws/live/history')).statusCode, 200)
    const stopped = (await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH })).json()
    await app.close()
    const [stretch] = await new RedisHistoryStore({ redis: await redisConnection(t, redis.url), prefix }).stretches(1)
    t.match(stretch, { startMs: Date.parse(started.since), endMs: Date.parse(stopped.lastSeen) }, 'the stretch across the outage, ended')
    t.equal(stretch?.ms.waiting, Date.parse(stopped.lastSeen) - Date.parse(started.since))
  })

  t.test('CC_LIVE_HISTORY=off with Redis: nothing logged nor recorded, the routes answer 404', async (t) => {
    const prefix = freshPrefix()
    const { app } = await replica(t, prefix, { CC_LIVE_HISTORY: 'off' })
    t.equal((await beat(app, { session_id: 'x', status: 'working' })).statusCode, 200)
    t.match((await app.inject('/ws/live/history')).json(), { statusCode: 404, code: 'CC_LIVE_HISTORY_OFF' })
    const client = await redisConnection(t, redis.url)
    t.equal(await client.exists(liveStateKeys(prefix).sessionLog, ...Object.values(historyKeys(prefix))), 0, 'no log of events, no history')
  })
}
