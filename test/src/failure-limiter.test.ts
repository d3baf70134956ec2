import t from 'tap'
import { FailureLimiter } from '../../src/failure-limiter.js'
import { FakeClock } from '../helpers/fake-clock.js'

const WINDOW = 60_000

function setup (maxKeys = 100) {
  const clock = new FakeClock()
  return { clock, limiter: new FailureLimiter({ maxFailures: 3, windowMs: WINDOW, maxKeys, clock }) }
}

t.test('a key may fail up to the limit; then it waits until its window ends', async (t) => {
  const { clock, limiter } = setup()
  for (let i = 0; i < 3; i++) {
    t.equal(limiter.retryAfterMs('a'), 0, `attempt ${i + 1} allowed`)
    limiter.recordFailure('a')
    clock.advance(1000)
  }
  t.equal(limiter.retryAfterMs('a'), WINDOW - 3000, 'refused until a minute after the first failure')
  clock.advance(WINDOW - 3001)
  t.equal(limiter.retryAfterMs('a'), 1)
  clock.advance(1)
  t.equal(limiter.retryAfterMs('a'), 0, 'a new window')
  limiter.recordFailure('a')
  t.equal(limiter.retryAfterMs('a'), 0, 'one failure in the new window')
})

t.test('keys are counted apart', async (t) => {
  const { limiter } = setup()
  for (let i = 0; i < 3; i++) limiter.recordFailure('a')
  t.ok(limiter.retryAfterMs('a') > 0)
  t.equal(limiter.retryAfterMs('b'), 0)
})

t.test('ended windows are forgotten, so memory follows only recent failures', async (t) => {
  const { clock, limiter } = setup()
  for (let i = 0; i < 50; i++) limiter.recordFailure(`old-${i}`)
  clock.advance(WINDOW)
  limiter.recordFailure('new')
  t.equal(limiter.trackedKeys, 1)
})

t.test('memory is bounded: past maxKeys the oldest windows are forgotten first', async (t) => {
  const { clock, limiter } = setup(10)
  for (let i = 0; i < 3; i++) limiter.recordFailure('early')
  clock.advance(1)
  for (let i = 0; i < 1000; i++) limiter.recordFailure(`key-${i}`)
  t.equal(limiter.trackedKeys, 10)
  t.equal(limiter.retryAfterMs('early'), 0, 'the oldest was dropped to make room')
  for (let i = 0; i < 2; i++) limiter.recordFailure('key-999')
  t.ok(limiter.retryAfterMs('key-999') > 0, 'the newest are still counted')
})
