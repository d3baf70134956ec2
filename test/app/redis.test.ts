import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { TEST_ENV } from '../helpers/app.ts'
import { freshPrefix, redisConnection } from '../helpers/live-stores.ts'
import { captureLogs } from '../helpers/logs.ts'
import { freePort } from '../helpers/ports.ts'
import { redisMissing, startRedisServer } from '../helpers/redis-server.ts'
import { tempDir } from '../helpers/temp-dir.ts'

// The app with CC_LIVE_REDIS_URL set, against a real redis-server that wants a password.
const SECRET = 'pa55-for-the-test-0123'

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  const redis = await startRedisServer(t)
  const admin = await redisConnection(t, redis.url)
  await admin.config('SET', 'requirepass', SECRET)
  const endpoint = `redis://127.0.0.1:${redis.port}`

  t.test('the password in the URL or apart; the state shared, the state file unused, nothing secret logged', async (t) => {
    for (const env of [
      { CC_LIVE_REDIS_URL: `redis://:${SECRET}@127.0.0.1:${redis.port}` },
      { CC_LIVE_REDIS_URL: endpoint, CC_LIVE_REDIS_PASSWORD: SECRET }
    ]) {
      const stateFile = join(await tempDir(t), 'state.json')
      const logs = captureLogs()
      const app = buildApp({ logger: logs.logger, env: { ...TEST_ENV, ...logs.env, ...env, CC_LIVE_REDIS_PREFIX: freshPrefix(), CC_LIVE_STATE_FILE: stateFile } })
      t.teardown(() => app.close())
      await app.ready()
      t.match(logs.lines, [{ msg: 'connected to Redis: the live state is shared', redis: endpoint }])
      t.ok(logs.lines.some((line) => line.msg === 'state file not used: the live state is kept by Redis'))
      const answer = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: { authorization: `Bearer ${TEST_ENV.CC_LIVE_API_KEY}` } })
      t.equal(answer.statusCode, 200)
      t.notOk(existsSync(stateFile), 'no state file written')
      t.same((await app.inject('/healthz')).json(), { status: 'ok', redis: 'reachable' })
      t.equal((await app.inject('/ws/live/history')).statusCode, 200, 'the history, shared through Redis too')
      t.notOk(logs.lines.some((line) => (line.level as number) >= 40), 'nothing to warn about')
      t.notMatch(JSON.stringify(logs.lines), SECRET, 'the password is in no log line')
    }
  })

  t.test('start-up fails, naming the server and never the password, when Redis refuses the password or is not there', async (t) => {
    const nobody = await freePort()
    const attempts = [
      [`redis://:wrong-${SECRET}@127.0.0.1:${redis.port}`, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ within 5000 ms: WRONGPASS/],
      [`redis://127.0.0.1:${nobody}`, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${nobody} within 5000 ms`)]
    ] as const
    await Promise.all(attempts.map(async ([url, reason]) => {
      const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_REDIS_URL: url } })
      t.teardown(() => app.close())
      const error = await app.ready().then(() => null, (error: Error) => error)
      t.match(error?.message, reason)
      t.notMatch(error?.message, SECRET)
    }))
  })
}
