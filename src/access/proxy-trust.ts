import { isIP } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'

/** Whether the peer at `address`, `hop` steps from this server, may name the client in X-Forwarded-For. */
export type ProxyTrust = (address: string, hop: number) => boolean

const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

const trustNobody: ProxyTrust = () => false

/**
 * Compiles proxy addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`
 * into a trust function; no entries trusts nobody. Fastify's own
 * parser compiles it, after a stricter check: it would read `1` as the address 0.0.0.1, where the
 * writer more likely meant a hop count. Throws a TypeError naming the bad entry. There is no
 * "trust everyone": that would let any client choose its address.
 */
export function compileProxyTrust (entries: readonly string[]): ProxyTrust {
  for (const entry of entries) {
    const address = entry.split('/')[0] ?? ''
    if (!RANGE_NAMES.has(entry) && isIP(address) === 0) throw new TypeError(`invalid IP address: ${address}`)
  }
  return entries.length === 0 ? trustNobody : proxyAddr.compile([...entries])
}
