import t from 'tap'
import { FailureLimiter } from '../../../src/access/failure-limiter.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'

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

function block (limiter: FailureLimiter, key: string): void {
  for (let i = 0; i < 3; i++) limiter.recordFailure(key)
}

t.test('a blocked key stays blocked for its whole window, however many other keys fail', async (t) => {
  const { clock, limiter } = setup(10)
  block(limiter, 'attacker')
  clock.advance(1)
  for (let i = 0; i < 10_000; i++) limiter.recordFailure(`other-${i}`)
  t.equal(limiter.trackedKeys, 10, 'memory stays bounded')
  t.equal(limiter.retryAfterMs('attacker'), WINDOW - 1, 'still blocked, to the end of its window')
  clock.advance(WINDOW - 1)
  t.equal(limiter.retryAfterMs('attacker'), 0, 'and no longer')
})

t.test('when full, ended windows are forgotten before live ones', async (t) => {
  const { clock, limiter } = setup(3)
  limiter.recordFailure('ended')
  limiter.recordFailure('ended')
  clock.advance(1)
  limiter.recordFailure('live-a')
  limiter.recordFailure('live-b')
  clock.advance(WINDOW - 1)
  t.equal(limiter.recordFailure('new'), true)
  t.equal(limiter.trackedKeys, 3)
  for (const key of ['live-a', 'live-b']) {
    limiter.recordFailure(key)
    limiter.recordFailure(key)
    t.ok(limiter.retryAfterMs(key) > 0, `${key} kept its first failure, though it had fewer than the ended window`)
  }
})

t.test('when full of live windows, the one with the fewest failures is forgotten first, the oldest of equals', async (t) => {
  const { clock, limiter } = setup(3)
  limiter.recordFailure('two')
  limiter.recordFailure('two')
  clock.advance(1)
  limiter.recordFailure('one-older')
  clock.advance(1)
  limiter.recordFailure('one-newer')
  clock.advance(1)
  limiter.recordFailure('new')
  limiter.recordFailure('two')
  t.ok(limiter.retryAfterMs('two') > 0, 'the key with two failures was kept: its third blocks it')
  limiter.recordFailure('one-newer')
  limiter.recordFailure('one-newer')
  t.ok(limiter.retryAfterMs('one-newer') > 0, 'the newer of the single failures was kept')
  limiter.recordFailure('one-older')
  limiter.recordFailure('one-older')
  t.equal(limiter.retryAfterMs('one-older'), 0, 'the older one was forgotten: it starts again from one')
})

t.test('forgetting a live window never costs more failures than it took to make the room', async (t) => {
  const { limiter } = setup(5)
  limiter.recordFailure('patient')
  limiter.recordFailure('patient')
  for (let i = 0; i < 1000; i++) limiter.recordFailure(`flood-${i}`)
  limiter.recordFailure('patient')
  t.ok(limiter.retryAfterMs('patient') > 0, 'a thousand single failures elsewhere did not reset its two')
})

t.test('when every slot holds a blocked key, a new key is not tracked until a block ends', async (t) => {
  const { clock, limiter } = setup(2)
  block(limiter, 'a')
  clock.advance(1)
  block(limiter, 'b')
  t.equal(limiter.recordFailure('c'), false, 'not tracked: recordFailure says so')
  t.equal(limiter.trackedKeys, 2)
  t.equal(limiter.retryAfterMs('c'), 0, 'an untracked key is not refused (so no one is locked out by others\' blocks)')
  t.ok(limiter.retryAfterMs('a') > 0 && limiter.retryAfterMs('b') > 0, 'both blocks hold')
  clock.advance(WINDOW - 1)
  t.equal(limiter.recordFailure('c'), true, "a's window has ended: its slot is free")
  t.ok(limiter.retryAfterMs('b') > 0)
})
