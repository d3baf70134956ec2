import t from 'tap'
import { clientKey } from '../../../src/access/client-key.ts'

t.test('an IPv4 address is its own key', async (t) => {
  t.equal(clientKey('203.0.113.7'), '203.0.113.7')
})

t.test('an IPv6 address counts by its /64, however it is written', async (t) => {
  const key = '2001:db8:1:2::/64'
  for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:DB8:1:2:0:0:0:1', '2001:0db8:0001:0002::abcd', '2001:db8:1:2::9%eth0']) {
    t.equal(clientKey(address), key, address)
  }
  t.equal(clientKey('2001:db8:1:3::1'), '2001:db8:1:3::/64', 'the next /64 is another client')
  t.equal(clientKey('::1'), '0:0:0:0::/64')
  t.equal(clientKey('2001:db8::'), '2001:db8:0:0::/64')
})

t.test('an IPv4-mapped IPv6 address is the IPv4 address it maps', async (t) => {
  t.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7')
  t.equal(clientKey('::FFFF:cb00:7107'), '203.0.113.7', 'in hex too')
  t.equal(clientKey('0:0:0:0:0:ffff:127.0.0.1'), '127.0.0.1')
})

t.test('anything that is not an address is kept as it is', async (t) => {
  for (const text of ['', 'unknown', '1.2.3', '::ffff:1.2.3']) t.equal(clientKey(text), text)
})
