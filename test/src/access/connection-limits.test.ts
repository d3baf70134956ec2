import t from 'tap'
import { ConnectionLimits } from '../../../src/access/connection-limits.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'

const MINUTE = 60_000

function setup () {
  const clock = new FakeClock()
  return { clock, limits: new ConnectionLimits({ maxPerAddress: 2, reportEveryMs: MINUTE, clock }) }
}

function admitted (admission: ReturnType<ConnectionLimits['admit']>): () => void {
  if (!admission.admitted) throw new Error('refused')
  return admission.release
}

t.test('an address may hold up to the cap; one more is refused; addresses are counted apart', async (t) => {
  const { limits } = setup()
  admitted(limits.admit('a'))
  admitted(limits.admit('a'))
  t.same(limits.admit('a'), { admitted: false, report: true })
  t.equal(limits.admit('b').admitted, true)
})

t.test('a refusal is reported once a minute while the address stays at the cap', async (t) => {
  const { clock, limits } = setup()
  admitted(limits.admit('a'))
  admitted(limits.admit('a'))
  t.same(limits.admit('a'), { admitted: false, report: true })
  clock.advance(MINUTE - 1)
  t.same(limits.admit('a'), { admitted: false, report: false })
  clock.advance(1)
  t.same(limits.admit('a'), { admitted: false, report: true })
})

t.test('release gives the place back once, however often it is called', async (t) => {
  const { limits } = setup()
  const release = admitted(limits.admit('a'))
  admitted(limits.admit('a'))
  release()
  release()
  admitted(limits.admit('a'))
  t.equal(limits.admit('a').admitted, false, 'the second release gave nothing more back')
})

t.test('an address is forgotten with its last connection: memory follows open connections', async (t) => {
  const { limits } = setup()
  const releases = Array.from({ length: 1000 }, (_, i) => admitted(limits.admit(`address-${i}`)))
  t.equal(limits.addresses, 1000)
  for (const release of releases) release()
  t.equal(limits.addresses, 0)
})
