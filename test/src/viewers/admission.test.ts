import t from 'tap'
import { ViewerAdmission } from '../../../src/viewers/admission.ts'

const anyOrigin = { allowedOrigins: null }

t.test('admits up to both caps, and again once places are released', async (t) => {
  const admission = new ViewerAdmission({ maxViewers: 3, maxViewersPerAddress: 2, ...anyOrigin })
  const first = admission.admit('a', undefined)
  t.equal(admission.admit('a', undefined).refusal, undefined)
  t.same(admission.admit('a', undefined), { refusal: 'CC_LIVE_TOO_MANY_VIEWERS' }, 'a is at its cap')
  t.equal(admission.admit('b', undefined).refusal, undefined)
  t.same(admission.admit('c', undefined), { refusal: 'CC_LIVE_TOO_MANY_VIEWERS' }, 'everyone is at the global cap')
  t.equal(admission.refusal('c', undefined), 'CC_LIVE_TOO_MANY_VIEWERS', 'the check without taking agrees')
  first.release?.()
  t.equal(admission.refusal('c', undefined), null)
  t.equal(admission.admit('a', undefined).refusal, undefined, 'the released place is free again')
  t.equal(admission.viewers, 3)
})

t.test('a place is given back once, however often its release is called', async (t) => {
  const admission = new ViewerAdmission({ maxViewers: 2, maxViewersPerAddress: 2, ...anyOrigin })
  const place = admission.admit('a', undefined)
  admission.admit('a', undefined)
  for (let i = 0; i < 5; i++) place.release?.()
  t.equal(admission.viewers, 1, 'the other place is still held')
  t.same(admission.admit('b', undefined).refusal, undefined)
  t.same(admission.admit('c', undefined), { refusal: 'CC_LIVE_TOO_MANY_VIEWERS' }, 'the cap still holds')
})

t.test('refusal takes nothing', async (t) => {
  const admission = new ViewerAdmission({ maxViewers: 1, maxViewersPerAddress: 1, ...anyOrigin })
  for (let i = 0; i < 10; i++) t.equal(admission.refusal('a', undefined), null)
  t.equal(admission.viewers, 0)
})

t.test('pages from origins off the allow-list are refused; requests without an Origin are let in', async (t) => {
  const admission = new ViewerAdmission({ maxViewers: 10, maxViewersPerAddress: 10, allowedOrigins: new Set(['https://blog.example']) })
  t.equal(admission.admit('a', 'https://blog.example').refusal, undefined)
  t.same(admission.admit('a', 'https://evil.example'), { refusal: 'CC_LIVE_ORIGIN_NOT_ALLOWED' })
  t.same(admission.admit('a', 'null'), { refusal: 'CC_LIVE_ORIGIN_NOT_ALLOWED' })
  t.equal(admission.admit('a', undefined).refusal, undefined)
  t.equal(admission.viewers, 2, 'refused origins took no place')
})

t.test('an address is forgotten when its last place is released', async (t) => {
  const admission = new ViewerAdmission({ maxViewers: 10_000, maxViewersPerAddress: 1, ...anyOrigin })
  const places = Array.from({ length: 1000 }, (_, i) => admission.admit(`10.0.${i >> 8}.${i & 255}`, undefined))
  t.equal(admission.addresses, 1000)
  for (const place of places) place.release?.()
  t.equal(admission.addresses, 0)
  t.equal(admission.viewers, 0)
})
