import t from 'tap'
import { compileProxyTrust } from '../../../src/access/proxy-trust.ts'
import { splitList } from '../../../src/config.ts'

const compile = (setting: string) => compileProxyTrust(splitList(setting))

t.test('an empty setting trusts nobody, not even loopback', async (t) => {
  for (const setting of ['', ' ', ',', ' , ']) {
    const trusts = compile(setting)
    t.notOk(trusts('127.0.0.1', 0), JSON.stringify(setting))
    t.notOk(trusts('10.0.0.1', 0), JSON.stringify(setting))
  }
})

t.test('addresses, CIDR ranges and named ranges, comma-separated with optional spaces', async (t) => {
  const trusts = compile('172.30.0.2, 10.1.0.0/16,loopback, fd00::/8')
  t.ok(trusts('172.30.0.2', 0))
  t.notOk(trusts('172.30.0.3', 0), 'a neighbour of a single address is not trusted')
  t.ok(trusts('10.1.255.254', 0))
  t.notOk(trusts('10.2.0.1', 0))
  t.ok(trusts('127.0.0.5', 0))
  t.ok(trusts('::1', 0))
  t.ok(trusts('fd12::1', 0))
  t.notOk(trusts('203.0.113.7', 0))
})

t.test('anything that is not an address, range or range name is refused, naming the entry', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['true', /invalid IP address: true$/],
    ['*', /invalid IP address: \*$/],
    ['1', /invalid IP address: 1$/],
    ['127.1', /invalid IP address: 127\.1$/],
    ['proxy.example', /invalid IP address: proxy\.example$/],
    ['10.0.0.0/33', /invalid range on address: 10\.0\.0\.0\/33$/],
    ['10.0.0.1,nope', /invalid IP address: nope$/]
  ]
  for (const [setting, message] of cases) {
    t.throws(() => compile(setting), { name: 'TypeError', message }, setting)
  }
})
