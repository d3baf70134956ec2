import t from 'tap'
import { AUTH_FAILURE_LIMIT } from '../../plugins/auth-failure-limit.ts'
import { buildListeningTestApp } from '../helpers/app.ts'
import { httpCall } from '../helpers/http-call.ts'

// The failure limit on real sockets, behind a trusted proxy; the rest of it is in
// test/plugins/auth-failure-limit.test.ts.
const WRONG = { authorization: 'Bearer wrong-key-0123456789abcdef' }
const { maxFailures } = AUTH_FAILURE_LIMIT

/** On loopback: a proxy the app trusts, and a client that talks to it directly. */
const PROXY = '127.0.0.1'
const DIRECT = '127.0.0.2'

async function listeningBehindProxy (t: Parameters<typeof buildListeningTestApp>[0]) {
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_TRUST_PROXY: PROXY } })
  const { port } = app.server.address() as { port: number }
  /** A heartbeat with a wrong key on a real socket: straight from `from`, or through the proxy for `forwardedFor`. */
  const fail = async (from: { direct: string } | { forwardedFor: string }): Promise<number> => {
    const { status } = await httpCall({
      port,
      method: 'POST',
      path: '/api/live/heartbeat',
      headers: { ...WRONG, ...('forwardedFor' in from && { 'x-forwarded-for': from.forwardedFor }) },
      localAddress: 'direct' in from ? from.direct : PROXY
    })
    return status
  }
  return { app, fail }
}

t.test('real sockets: a blocked address stays blocked while 10 000 other addresses fail once each', async (t) => {
  const { fail } = await listeningBehindProxy(t)
  for (let i = 0; i < maxFailures; i++) await fail({ direct: DIRECT })
  t.equal(await fail({ direct: DIRECT }), 429, 'blocked')

  const others = 10_000
  const statuses = new Set<number>()
  const inFlight = 8
  for (let first = 0; first < others; first += inFlight) {
    const batch = Array.from({ length: Math.min(inFlight, others - first) }, (_, offset) => {
      const i = first + offset
      return fail({ forwardedFor: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` })
    })
    for (const status of await Promise.all(batch)) statuses.add(status)
  }
  t.same([...statuses], [401], `${others} addresses failed once each`)
  t.equal(await fail({ direct: DIRECT }), 429, 'still blocked: the flood did not reset it')
})

t.test('real sockets: IPv6 addresses count by their /64, IPv4-mapped ones as the IPv4 address', async (t) => {
  const { fail } = await listeningBehindProxy(t)
  for (let i = 1; i <= maxFailures; i++) t.equal(await fail({ forwardedFor: `2001:db8:7:7::${i.toString(16)}` }), 401)
  t.equal(await fail({ forwardedFor: '2001:db8:7:7:ffff::1' }), 429, 'a new address of the same /64 is refused')
  t.equal(await fail({ forwardedFor: '2001:db8:7:8::1' }), 401, 'the next /64 is another client')

  for (let i = 0; i < maxFailures; i++) await fail({ forwardedFor: '203.0.113.9' })
  t.equal(await fail({ forwardedFor: '::ffff:203.0.113.9' }), 429, 'the same IPv4 client, mapped')
})
