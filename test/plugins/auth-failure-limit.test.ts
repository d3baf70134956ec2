import Fastify from 'fastify'
import t from 'tap'
import authFailureLimit, { AUTH_FAILURE_LIMIT } from '../../plugins/auth-failure-limit.ts'
import clockPlugin from '../../plugins/clock.ts'
import errors from '../../plugins/errors.ts'
import { AUTH, buildTestApp } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { captureLogs } from '../helpers/logs.ts'
import { OFFLINE } from '../helpers/states.ts'
import { errorBody } from '../../src/errors.ts'

const WRONG = { authorization: 'Bearer wrong-key-0123456789abcdef' }
const ATTACKER = '203.0.113.7'
const LAPTOP = '198.51.100.2'
const { maxFailures, windowMs } = AUTH_FAILURE_LIMIT

async function setup (t: Parameters<typeof buildTestApp>[0]) {
  const clock = new FakeClock()
  const app = await buildTestApp(t, { clock })
  const post = (headers: Record<string, string>, remoteAddress: string, url = '/api/live/heartbeat', payload: object | string = { session_id: 'a' }) =>
    app.inject({ method: 'POST', url, headers, payload, remoteAddress })
  return { app, clock, post }
}

t.test(`after ${maxFailures} wrong keys an address gets 429 with Retry-After, even with the right key`, async (t) => {
  const { app, clock, post } = await setup(t)
  for (let i = 0; i < maxFailures; i++) {
    t.equal((await post(WRONG, ATTACKER)).statusCode, 401, `failure ${i + 1} is an ordinary 401`)
    clock.advance(1000)
  }
  const limited = await post(WRONG, ATTACKER)
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['retry-after'], String((windowMs - maxFailures * 1000) / 1000), 'seconds until the window that began at the first failure ends')
  t.match(limited.json(), { ...errorBody('CC_LIVE_AUTH_RATE_LIMITED'), message: /retry in \d+ s/ })
  const rightKey = await post(AUTH, ATTACKER)
  t.equal(rightKey.statusCode, 429, 'the key is not even compared: guessing right gains nothing')
  t.same(app.liveState.snapshot.state, OFFLINE, 'nothing changed')
  t.equal((await post(AUTH, LAPTOP)).statusCode, 200, 'other addresses are not affected')
})

t.test('once the window ends the address may try again', async (t) => {
  const { clock, post } = await setup(t)
  for (let i = 0; i < maxFailures; i++) await post(WRONG, ATTACKER)
  clock.advance(windowMs - 1)
  t.equal((await post(WRONG, ATTACKER)).statusCode, 429)
  t.equal((await post(WRONG, ATTACKER)).headers['retry-after'], '1', 'rounded up, never 0')
  clock.advance(1)
  t.equal((await post(AUTH, ATTACKER)).statusCode, 200)
})

t.test('requests refused while limited do not extend the limit', async (t) => {
  const { clock, post } = await setup(t)
  for (let i = 0; i < maxFailures; i++) await post(WRONG, ATTACKER)
  for (let i = 0; i < 100; i++) await post(WRONG, ATTACKER)
  clock.advance(windowMs)
  t.equal((await post(WRONG, ATTACKER)).statusCode, 401)
})

t.test("the daemon's pace is never limited: three sessions, a heartbeat each every 30 s for two hours", async (t) => {
  const { clock, post } = await setup(t)
  const daemon = new Set<number>()
  const attacker = new Set<number>()
  for (let tick = 0; tick < 240; tick++) {
    for (const session of ['one', 'two', 'three']) daemon.add((await post(AUTH, LAPTOP, '/api/live/heartbeat', { session_id: session })).statusCode)
    // An attacker at another address, limited most of the time, changes nothing for the laptop.
    attacker.add((await post(WRONG, ATTACKER)).statusCode)
    clock.advance(30_000)
  }
  for (const session of ['one', 'two', 'three']) daemon.add((await post(AUTH, LAPTOP, '/api/live/stop', { session_id: session })).statusCode)
  t.same([...daemon], [200], 'all 723 daemon requests answered 200')
  t.same([...attacker].sort(), [401, 429])
})

t.test('a burst of successful requests never counts toward the limit', async (t) => {
  const { post } = await setup(t)
  for (let i = 0; i < 500; i++) await post(AUTH, LAPTOP)
  for (let i = 0; i < maxFailures - 1; i++) await post(WRONG, LAPTOP)
  t.equal((await post(AUTH, LAPTOP)).statusCode, 200, 'nine failures after 500 successes: still under the limit')
})

t.test('bad input from an authenticated client is not an authentication failure', async (t) => {
  const { post } = await setup(t)
  for (let i = 0; i < maxFailures * 2; i++) {
    t.equal((await post({ ...AUTH, 'content-type': 'application/json' }, LAPTOP, '/api/live/heartbeat', '{oops')).statusCode, 400)
  }
  t.equal((await post(AUTH, LAPTOP)).statusCode, 200)
})

t.test('viewers are never limited by it', async (t) => {
  const { app, post } = await setup(t)
  for (let i = 0; i < maxFailures; i++) await post(WRONG, ATTACKER)
  const snapshot = await app.inject({ url: '/ws/live', remoteAddress: ATTACKER })
  t.equal(snapshot.statusCode, 200)
})

t.test('when every remembered address is blocked, a new one is answered 401 but not counted, with one warning', async (t) => {
  const clock = new FakeClock()
  const logs = captureLogs('warn')
  const app = Fastify({ logger: logs.logger })
  t.teardown(() => app.close())
  await app.register(errors)
  await app.register(clockPlugin, { clock })
  await app.register(authFailureLimit, { limit: { maxFailures: 1, windowMs: 60_000, maxKeys: 2 } })
  app.post('/', async (_request, reply) => reply.code(401).send())
  const fail = async (remoteAddress: string) => (await app.inject({ method: 'POST', url: '/', remoteAddress })).statusCode
  const warnings = () => logs.lines.filter((line) => /full of blocked addresses/.test(line.msg ?? '')).length

  t.equal(await fail('198.51.100.1'), 401)
  clock.advance(1000)
  t.equal(await fail('198.51.100.2'), 401)
  t.equal(await fail('198.51.100.1'), 429, 'both slots hold a blocked address')
  for (let i = 0; i < 3; i++) t.equal(await fail('203.0.113.1'), 401, 'a new address is answered, never refused for others\' blocks')
  t.equal(warnings(), 1, 'said once, not once per failure')
  t.equal(await fail('198.51.100.2'), 429, 'the blocks hold')

  clock.advance(59_000)
  t.equal(await fail('203.0.113.1'), 401, 'the first block has ended: its slot is free')
  t.equal(await fail('203.0.113.1'), 429, 'and the new address is counted again')
  t.equal(await fail('203.0.113.2'), 401)
  t.equal(warnings(), 2, 'full again: said again')
})
