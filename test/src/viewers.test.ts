import { EventEmitter } from 'node:events'
import t from 'tap'
import { createSnapshot } from '../../src/public-state.js'
import { ViewerSet, type ViewerSocket } from '../../src/viewers.js'

/** Records what the viewer set does to a socket; `answersClose` decides whether it finishes the close handshake. */
class RecordingSocket extends EventEmitter {
  bufferedAmount = 0
  sent: Buffer[] = []
  pings = 0
  terminated = false
  closedWith: [number, string] | null = null

  constructor (readonly answersClose = true) { super() }

  send (data: Buffer) { this.sent.push(data) }
  ping () { this.pings++ }
  close (code: number, reason: string) {
    this.closedWith = [code, reason]
    if (this.answersClose) setImmediate(() => this.emit('close'))
  }

  terminate () {
    if (this.terminated) return
    this.terminated = true
    setImmediate(() => this.emit('close'))
  }
}

const asViewer = (socket: RecordingSocket) => socket as unknown as ViewerSocket
const OFFLINE = createSnapshot(0, null)
const LIVE = createSnapshot(1, Date.parse('2026-01-01T00:00:00Z'))
const BOUND = 1000

t.test('a joining viewer gets the current state, then every broadcast', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE)
  viewers.broadcast(LIVE)
  t.same(socket.sent.map(String), [OFFLINE.json, LIVE.json])
})

t.test('one frame is shared by every viewer', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const sockets = [new RecordingSocket(), new RecordingSocket(), new RecordingSocket()]
  for (const socket of sockets) viewers.add(asViewer(socket), OFFLINE)
  viewers.broadcast(LIVE)
  const frames = sockets.map((socket) => socket.sent[1])
  t.ok(frames.every((frame) => frame === frames[0]), 'the same Buffer, not a copy per viewer')
})

t.test('a viewer over the backlog bound is cut and skipped; one at the bound is not', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const atBound = new RecordingSocket()
  const over = new RecordingSocket()
  viewers.add(asViewer(atBound), OFFLINE)
  viewers.add(asViewer(over), OFFLINE)
  atBound.bufferedAmount = BOUND
  over.bufferedAmount = BOUND + 1
  viewers.broadcast(LIVE)
  t.equal(over.terminated, true)
  t.equal(over.sent.length, 1, 'nothing more queued for it')
  t.equal(atBound.terminated, false)
  t.equal(atBound.sent.length, 2)
  t.equal(viewers.size, 1)
})

t.test('a viewer leaves the set when its socket closes', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE)
  socket.emit('close')
  t.equal(viewers.size, 0)
  viewers.broadcast(LIVE)
  t.equal(socket.sent.length, 1)
})

t.test('sweep pings everyone, then cuts those that did not answer', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const answering = new RecordingSocket()
  const silent = new RecordingSocket()
  viewers.add(asViewer(answering), OFFLINE)
  viewers.add(asViewer(silent), OFFLINE)
  viewers.sweep()
  t.same([answering.pings, silent.pings], [1, 1])
  answering.emit('pong')
  viewers.sweep()
  t.equal(silent.terminated, true)
  t.equal(answering.terminated, false)
  t.equal(answering.pings, 2)
  t.equal(viewers.size, 1)
})

t.test('a pong from a viewer already cut does not bring it back', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE)
  viewers.sweep()
  viewers.sweep()
  socket.emit('pong')
  t.equal(viewers.size, 0)
})

t.test('closeAll sends the code and waits for the handshakes', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const sockets = [new RecordingSocket(), new RecordingSocket()]
  for (const socket of sockets) viewers.add(asViewer(socket), OFFLINE)
  await viewers.closeAll(1001, 'bye', 10_000)
  t.same(sockets.map((socket) => socket.closedWith), [[1001, 'bye'], [1001, 'bye']])
  t.same(sockets.map((socket) => socket.terminated), [false, false])
  t.equal(viewers.size, 0)
})

t.test('closeAll cuts viewers that never finish the handshake', async (t) => {
  const viewers = new ViewerSet({ maxBufferedBytes: BOUND })
  const polite = new RecordingSocket()
  const mute = new RecordingSocket(false)
  viewers.add(asViewer(polite), OFFLINE)
  viewers.add(asViewer(mute), OFFLINE)
  await viewers.closeAll(1001, 'bye', 20)
  t.equal(mute.terminated, true)
  t.equal(viewers.size, 0)
})
