import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { createSnapshot, OFFLINE } from '../../src/public-state.js'
import { SseStreamSet } from '../../src/sse-streams.js'

const LIVE = createSnapshot(1, Date.parse('2026-01-01T00:00:00.000Z'))

function read (stream: PassThrough): string {
  return (stream.read() as Buffer | null)?.toString() ?? ''
}

t.test('a stream gets retry and the current state on joining, then each change', async (t) => {
  const set = new SseStreamSet({ maxBufferedBytes: 1024, retryMs: 2500 })
  const stream = new PassThrough()
  set.add(stream, OFFLINE)
  t.equal(read(stream), `retry: 2500\n\ndata: ${OFFLINE.json}\n\n`)
  set.broadcast(LIVE)
  set.keepalive()
  t.equal(read(stream), `data: ${LIVE.json}\n\n: keepalive\n\n`)
})

t.test('a closed stream leaves the set', async (t) => {
  const set = new SseStreamSet({ maxBufferedBytes: 1024, retryMs: 1000 })
  const stream = new PassThrough()
  set.add(stream, OFFLINE)
  stream.destroy()
  await once(stream, 'close')
  t.equal(set.size, 0)
})

t.test('a stream that stopped reading is cut instead of buffered for; the others carry on', async (t) => {
  const set = new SseStreamSet({ maxBufferedBytes: 200, retryMs: 1000 })
  const stuck = new PassThrough({ highWaterMark: 16 })
  const reading = new PassThrough()
  set.add(stuck, OFFLINE)
  set.add(reading, OFFLINE)
  reading.resume()
  for (let i = 0; i < 10; i++) set.broadcast(i % 2 ? OFFLINE : LIVE)
  t.equal(stuck.destroyed, true)
  t.equal(reading.destroyed, false)
  t.equal(set.size, 1)
})

t.test('closeAll ends every stream, and one that joins afterwards at once', async (t) => {
  const set = new SseStreamSet({ maxBufferedBytes: 1024, retryMs: 1000 })
  const open = new PassThrough()
  set.add(open, OFFLINE)
  open.resume()
  set.closeAll()
  await once(open, 'end')
  t.equal(set.size, 0)
  const late = new PassThrough()
  set.add(late, OFFLINE)
  t.equal(late.writableEnded, true)
  t.equal(set.size, 0)
})
