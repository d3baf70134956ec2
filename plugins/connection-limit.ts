import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import { clientKey } from '../src/access/client-key.ts'
import { ConnectionLimits } from '../src/access/connection-limits.ts'

const REPORT_EVERY_MS = 60_000

/**
 * Bounds the connections one client address holds open (CC_LIVE_MAX_CONNECTIONS_PER_IP), so one
 * client cannot take every descriptor with idle keep-alive connections. Every open connection
 * counts, upgraded WebSocket viewers and event streams included: each holds a descriptor, which is
 * why the config requires the cap to be above CC_LIVE_MAX_VIEWERS_PER_IP. One more is destroyed at
 * the 'connection' event, before a byte of it is read. Addresses are keyed as clientKey does (an
 * IPv6 /64 is one client). Connections from a trusted proxy are not counted: every client behind
 * it shares its address, and only X-Forwarded-For, read per request, tells them apart.
 */
export default fp(async function connectionLimit (fastify) {
  const { CC_LIVE_MAX_CONNECTIONS_PER_IP: maxPerAddress, trustsProxy } = fastify.config
  const limits = new ConnectionLimits({ maxPerAddress, reportEveryMs: REPORT_EVERY_MS, clock: fastify.clock })

  fastify.server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress
    // undefined: the peer is already gone, and nothing is left to count.
    if (peer === undefined || trustsProxy(peer, 0)) return
    const address = clientKey(peer)
    const admission = limits.admit(address)
    if (admission.admitted) {
      socket.once('close', admission.release)
      return
    }
    if (admission.report) fastify.log.warn({ address, maxPerAddress }, 'too many connections from one address: closing new ones at once (logged once a minute)')
    socket.destroy()
  })
}, { name: 'connection-limit', dependencies: ['config', 'clock'] })
