import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { LIVE as LIVE_STATE, OFFLINE as OFFLINE_STATE, snapshot } from '../../helpers/states.ts'
import { SseStreamSet, type SseStreamSetOptions } from '../../../src/viewers/sse-streams.ts'

const OFFLINE = snapshot(OFFLINE_STATE)
const LIVE = snapshot(LIVE_STATE)

function newSet (options: Partial<SseStreamSetOptions> = {}): SseStreamSet {
  return new SseStreamSet({ maxBufferedBytes: 1024, retryMs: 1000, ...options })
}

/** A viewer's place as admission hands it out, counting how often it is given back. */
function place (): { release: () => void, released: number } {
  const counted = { released: 0, release: () => { counted.released++ } }
  return counted
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
  set.add(stream, OFFLINE, place().release)
  t.equal(read(stream), `retry: 2500\n\nid: 0\ndata: ${OFFLINE.json}\n\n`)
  set.broadcast(LIVE)
  set.keepalive()
  t.equal(read(stream), `id: 1\ndata: ${LIVE.json}\n\n: keepalive\n\n`)
})

t.test('a closed stream leaves the set', async (t) => {
  const set = newSet()
  const stream = new PassThrough()
  set.add(stream, OFFLINE, place().release)
  stream.destroy()
  await once(stream, 'close')
  t.equal(set.size, 0)
})

t.test('a stream that stopped reading is cut instead of buffered for; the others carry on', async (t) => {
  const set = newSet({ maxBufferedBytes: 200 })
  const stuck = new PassThrough({ highWaterMark: 16 })
  const reading = new PassThrough()
  set.add(stuck, OFFLINE, place().release)
  set.add(reading, OFFLINE, place().release)
  reading.resume()
  for (let i = 0; i < 10; i++) set.broadcast(i % 2 ? OFFLINE : LIVE)
  t.equal(stuck.destroyed, true)
  t.equal(reading.destroyed, false)
  t.equal(set.size, 1)
})

t.test('closeAll ends every stream, and one that joins afterwards at once; each place is given back once', async (t) => {
  const set = newSet()
  const open = new PassThrough()
  const openPlace = place()
  set.add(open, OFFLINE, openPlace.release)
  open.resume()
  await set.closeAll()
  await once(open, 'end')
  t.equal(set.size, 0)
  const late = new PassThrough()
  const latePlace = place()
  set.add(late, OFFLINE, latePlace.release)
  t.equal(late.writableEnded, true)
  t.equal(set.size, 0)
  open.destroy()
  t.same([openPlace.released, latePlace.released], [1, 1], 'and a close after the end gives nothing back twice')
})

t.test('a stream gives its place back exactly once, whether it closes, is cut, or both', async (t) => {
  const set = newSet({ maxBufferedBytes: 10 })
  const closed = new PassThrough()
  const closedPlace = place()
  set.add(closed, OFFLINE, closedPlace.release)
  closed.destroy()
  await once(closed, 'close')
  const cut = new PassThrough({ highWaterMark: 1 })
  const cutPlace = place()
  set.add(cut, OFFLINE, cutPlace.release)
  set.broadcast(LIVE)
  await once(cut, 'close')
  t.same([closedPlace.released, cutPlace.released], [1, 1])
  t.equal(set.size, 0)
})

t.test('a stream ends with its connection, and one whose connection has already closed gives its place back at once', async (t) => {
  const set = newSet()
  const response = new PassThrough()
  const connection = new PassThrough()
  const held = place()
  set.add(response, OFFLINE, held.release, connection)
  t.equal(set.size, 1)
  connection.destroy()
  await once(connection, 'close')
  t.equal(set.size, 0, 'the stream itself never closed')
  t.equal(held.released, 1)
  const late = new PassThrough()
  const latePlace = place()
  set.add(late, OFFLINE, latePlace.release, connection)
  t.equal(set.size, 0)
  t.equal(latePlace.released, 1)
  t.equal(late.writableEnded, true)
})
