import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { buildTestApp, TEST_ENV } from '../helpers/app.ts'
import { captureLogs, loggedClientAddresses } from '../helpers/logs.ts'

const PROXY = '10.0.0.5'
const CLIENT = '198.51.100.20'
const SPOOFED = '203.0.113.7'

/** The client address the request log line names for one request from `remoteAddress`. */
async function loggedAddressFor (t: Test, trustProxy: string | undefined, remoteAddress: string, forwardedFor?: string) {
  const { lines, logger } = captureLogs()
  const app = await buildTestApp(t, { logger, env: { LOG_LEVEL: 'info', ...(trustProxy !== undefined && { CC_LIVE_TRUST_PROXY: trustProxy }) } })
  const res = await app.inject({ url: '/ws/live', remoteAddress, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } })
  t.equal(res.statusCode, 200)
  return loggedClientAddresses(lines, '/ws/live')
}

t.test('off by default: X-Forwarded-For is ignored, whoever sends it', async (t) => {
  t.same(await loggedAddressFor(t, undefined, PROXY, CLIENT), [PROXY])
  t.same(await loggedAddressFor(t, undefined, '127.0.0.1', SPOOFED), ['127.0.0.1'])
})

t.test('a trusted proxy names the client; the logs show the client', async (t) => {
  t.same(await loggedAddressFor(t, PROXY, PROXY, CLIENT), [CLIENT])
  t.same(await loggedAddressFor(t, '10.0.0.0/8', PROXY, CLIENT), [CLIENT])
})

t.test('a peer outside the trusted list cannot spoof its address', async (t) => {
  t.same(await loggedAddressFor(t, PROXY, CLIENT, SPOOFED), [CLIENT])
})

t.test('through a trusted proxy, entries a client forged to the left of the hop are ignored', async (t) => {
  t.same(await loggedAddressFor(t, PROXY, PROXY, `${SPOOFED}, ${CLIENT}`), [CLIENT])
})

t.test('an invalid CC_LIVE_TRUST_PROXY stops start-up with a message naming it', async (t) => {
  for (const value of ['true', '10.0.0.0/40', 'traefik']) {
    const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_TRUST_PROXY: value } })
    await t.rejects(async () => app.ready(), { name: 'ConfigError', message: /^CC_LIVE_TRUST_PROXY: invalid (IP address|range on address): / }, value)
    await app.close()
  }
})
