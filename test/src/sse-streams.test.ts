import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { createSnapshot, OFFLINE } from '../../src/public-state.js'
import { SseStreamSet, type SseStreamSetOptions } from '../../src/sse-streams.js'
import { ViewerLimits } from '../../src/viewer-limits.js'

const LIVE = createSnapshot(1, Date.parse('2026-01-01T00:00:00.000Z'))

const ADDRESS = '192.0.2.1'

function newSet (options: Partial<SseStreamSetOptions> = {}): SseStreamSet {
  return new SseStreamSet({ maxBufferedBytes: 1024, retryMs: 1000, limits: new ViewerLimits({ maxViewers: 100, maxViewersPerAddress: 100 }), ...options })
}

/** Everything buffered so far: newer Node hands out a PassThrough's buffer one written chunk per read(). */
function read (stream: PassThrough): string {
  let text = ''
  for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) text += chunk.toString()
  return text
}

t.test('a stream gets retry and the current state on joining, then each change', async (t) => {
  const set = newSet({ retryMs: 2500 })
  const stream = new PassThrough()
  set.add(stream, OFFLINE, ADDRESS)
  t.equal(read(stream), `retry: 2500\n\ndata: ${OFFLINE.json}\n\n`)
  set.broadcast(LIVE)
  set.keepalive()
  t.equal(read(stream), `data: ${LIVE.json}\n\n: keepalive\n\n`)
})

t.test('a closed stream leaves the set', async (t) => {
  const set = newSet()
  const stream = new PassThrough()
  set.add(stream, OFFLINE, ADDRESS)
  stream.destroy()
  await once(stream, 'close')
  t.equal(set.size, 0)
})

t.test('a stream that stopped reading is cut instead of buffered for; the others carry on', async (t) => {
  const set = newSet({ maxBufferedBytes: 200 })
  const stuck = new PassThrough({ highWaterMark: 16 })
  const reading = new PassThrough()
  set.add(stuck, OFFLINE, ADDRESS)
  set.add(reading, OFFLINE, ADDRESS)
  reading.resume()
  for (let i = 0; i < 10; i++) set.broadcast(i % 2 ? OFFLINE : LIVE)
  t.equal(stuck.destroyed, true)
  t.equal(reading.destroyed, false)
  t.equal(set.size, 1)
})

t.test('closeAll ends every stream, and one that joins afterwards at once', async (t) => {
  const set = newSet()
  const open = new PassThrough()
  set.add(open, OFFLINE, ADDRESS)
  open.resume()
  set.closeAll()
  await once(open, 'end')
  t.equal(set.size, 0)
  const late = new PassThrough()
  set.add(late, OFFLINE, ADDRESS)
  t.equal(late.writableEnded, true)
  t.equal(set.size, 0)
})

t.test('streams count against the viewer caps and give their place back when they end', async (t) => {
  const limits = new ViewerLimits({ maxViewers: 10, maxViewersPerAddress: 1 })
  const set = newSet({ limits })
  const first = new PassThrough()
  t.equal(set.add(first, OFFLINE, ADDRESS), true)
  const second = new PassThrough()
  t.equal(set.add(second, OFFLINE, ADDRESS), false, 'over the per-address cap')
  t.equal(read(second), '', 'a refused stream is left alone: nothing was written to it')
  t.equal(set.add(new PassThrough(), OFFLINE, '192.0.2.2'), true, 'another address still gets in')
  first.destroy()
  await once(first, 'close')
  t.equal(limits.admits(ADDRESS), true)
})
