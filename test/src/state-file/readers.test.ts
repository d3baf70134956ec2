import t from 'tap'
import { DEFAULT_SESSION } from '../../../src/live/sessions.ts'
import { MAX_TIME_DISTANCE_MS, readList, readSessionId, readTime, readTuple } from '../../../src/state-file/readers.ts'

const NOW = Date.parse('2026-01-01T00:00:00.000Z')

t.test('a time is a number within ten years of now, either way', async (t) => {
  for (const time of [NOW, NOW - MAX_TIME_DISTANCE_MS, NOW + MAX_TIME_DISTANCE_MS, NOW + 0.5, Date.parse('2020-01-01')]) {
    t.equal(readTime(time, 'since', NOW), time, new Date(time).toISOString())
  }
  t.ok(MAX_TIME_DISTANCE_MS >= 10 * 365 * 86_400_000)
  const refused = [-1e300, 1e300, 0, -0, -8.64e15, 8.64e15, NOW - MAX_TIME_DISTANCE_MS - 1, NOW + MAX_TIME_DISTANCE_MS + 1,
    Infinity, -Infinity, NaN, String(NOW), null, true, [NOW], { at: NOW }]
  for (const value of refused) {
    t.throws(() => readTime(value, 'expiries[2][1]', NOW), { message: 'expiries[2][1] is not a time within ten years of now' }, String(value))
  }
})

t.test("a session id is one the heartbeat route accepts, or the default session's name", async (t) => {
  for (const id of ['a', 'laptop-1', 'A.b_c:d-9', '0'.repeat(128), DEFAULT_SESSION]) t.equal(readSessionId(id, 'id'), id, id)
  const refused = ['', '0'.repeat(129), 'a b', '<script>', 'café', 'a/b', 'a\nb', `${DEFAULT_SESSION} `, '(other)', 42, null, ['a']]
  for (const value of refused) {
    t.throws(() => readSessionId(value, 'expiries[0][0]'), { message: 'expiries[0][0] is not a session id' }, JSON.stringify(value))
  }
})

t.test('a list is bounded, and each item is told where it is', async (t) => {
  const where: string[] = []
  t.same(readList([1, 2, 3], 'counts', 3, (item, at) => { where.push(at); return Number(item) * 2 }), [2, 4, 6])
  t.same(where, ['counts[0]', 'counts[1]', 'counts[2]'])
  t.same(readList([], 'counts', 0, () => 1), [])
  t.throws(() => readList([1, 2, 3, 4], 'counts', 3, () => 1), { message: 'counts has 4 entries, more than 3' })
  t.throws(() => readList({ 0: 1, length: 1 }, 'counts', 3, () => 1), { message: 'counts is not a list' })
  t.throws(() => readList('abc', 'counts', 3, () => 1), { message: 'counts is not a list' })
  t.throws(() => readList([1, 'x'], 'counts', 3, (item, at) => readTime(item, at, NOW)), { message: 'counts[0] is not a time within ten years of now' })
})

t.test('a tuple has exactly its length', async (t) => {
  t.same(readTuple(['a', 1], 'pair', 2), ['a', 1])
  for (const value of [['a'], ['a', 1, 2], [], 'ab', null]) {
    t.throws(() => readTuple(value, 'pair', 2), { message: 'pair is not a list of 2' }, JSON.stringify(value))
  }
})
