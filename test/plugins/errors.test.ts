import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { AUTH, TEST_ENV } from '../helpers/app.ts'
import { errorBody } from '../../src/errors.ts'

/** An app whose log lines land in an array, plus a route that fails with a secret in its message. */
async function appLoggingTo (t: Test) {
  const lines: string[] = []
  const app = buildApp({
    env: { ...TEST_ENV, LOG_LEVEL: 'info' },
    logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } }
  })
  t.teardown(() => app.close())
  app.get('/boom', async () => { throw new Error('database password is hunter2') })
  await app.ready()
  return { app, lines }
}

t.test('a server fault is logged in full and answered without its details', async (t) => {
  const { app, lines } = await appLoggingTo(t)
  const res = await app.inject({ url: '/boom' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), errorBody('CC_LIVE_INTERNAL'))
  t.same(res.json(), { statusCode: 500, code: 'CC_LIVE_INTERNAL', error: 'Internal Server Error', message: 'internal error' }, 'the catalogue\'s words exactly')
  t.ok(lines.some((line) => line.includes('hunter2') && line.includes('request failed')), 'the cause is in the log')
})

t.test('a client mistake is logged in one line without a stack', async (t) => {
  const { app, lines } = await appLoggingTo(t)
  await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: { ...AUTH, 'content-type': 'text/plain' }, payload: 'x' })
  const rejected = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'request rejected')
  t.match(rejected, { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' })
  t.notOk(JSON.stringify(rejected).includes('stack'))
})
