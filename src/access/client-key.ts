import { isIP } from 'node:net'

/**
 * The key under which per-client limits count an address. An IPv4 address is its own key. An
 * IPv6 address counts by its /64: that is what one subscriber, or one LAN, is usually given, so
 * keying single addresses would give one client 2^64 keys. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, as a dual-stack socket reports IPv4 peers) is the IPv4 address it maps.
 * Anything that is not an address is returned unchanged.
 */
export function clientKey (address: string): string {
  if (isIP(address) !== 6) return address
  const hextets = ipv6Hextets(address)
  if (hextets.slice(0, 5).every((hextet) => hextet === 0) && hextets[5] === 0xffff) {
    const [high = 0, low = 0] = hextets.slice(6)
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
  }
  return `${hextets.slice(0, 4).map((hextet) => hextet.toString(16)).join(':')}::/64`
}

/** The eight 16-bit groups of an address isIP() accepted as IPv6 (zone dropped, "::" expanded, a dotted tail converted). */
function ipv6Hextets (address: string): number[] {
  const withoutZone = address.split('%')[0] ?? ''
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(withoutZone)
  const hex = dotted === null
    ? withoutZone
    : withoutZone.slice(0, dotted.index) + [[dotted[1], dotted[2]], [dotted[3], dotted[4]]]
      .map(([high, low]) => ((Number(high) << 8) | Number(low)).toString(16)).join(':')
  const [head = '', tail] = hex.split('::')
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)))
  const before = groups(head)
  const after = groups(tail)
  const zeros = tail === undefined ? [] : new Array<number>(8 - before.length - after.length).fill(0)
  return [...before, ...zeros, ...after]
}
