import t from 'tap'
import { ViewerLimits } from '../../src/viewer-limits.js'

t.test('admits up to both caps and again once viewers leave', async (t) => {
  const limits = new ViewerLimits({ maxViewers: 3, maxViewersPerAddress: 2 })
  limits.add('a')
  t.ok(limits.admits('a'))
  limits.add('a')
  t.notOk(limits.admits('a'), 'a is at its cap')
  t.ok(limits.admits('b'))
  limits.add('b')
  t.notOk(limits.admits('c'), 'everyone is at the global cap')
  limits.remove('a')
  t.ok(limits.admits('a'))
  t.ok(limits.admits('c'))
})

t.test('an address is forgotten when its last viewer leaves', async (t) => {
  const limits = new ViewerLimits({ maxViewers: 10_000, maxViewersPerAddress: 1 })
  for (let i = 0; i < 1000; i++) limits.add(`10.0.${i >> 8}.${i & 255}`)
  t.equal(limits.addresses, 1000)
  for (let i = 0; i < 1000; i++) limits.remove(`10.0.${i >> 8}.${i & 255}`)
  t.equal(limits.addresses, 0)
})
