import { EventEmitter } from 'node:events'
import t from 'tap'
import { FakeClock } from '../helpers/fake-clock.js'
import { createSnapshot } from '../../src/public-state.js'
import { CLOSE_TRY_AGAIN_LATER, ViewerSet, type ViewerSetOptions, type ViewerSocket } from '../../src/viewers.js'
import { ViewerLimits } from '../../src/viewer-limits.js'

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
const ADDRESS = '192.0.2.1'

function newViewerSet (options: Partial<ViewerSetOptions> = {}) {
  return new ViewerSet({
    maxBufferedBytes: BOUND,
    limits: new ViewerLimits({ maxViewers: 100, maxViewersPerAddress: 100 }),
    maxFramesPerWindow: 100,
    frameWindowMs: 1000,
    ...options
  })
}

t.test('a joining viewer gets the current state, then every broadcast', async (t) => {
  const viewers = newViewerSet()
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, ADDRESS)
  viewers.broadcast(LIVE)
  t.same(socket.sent.map(String), [OFFLINE.json, LIVE.json])
})

t.test('one frame is shared by every viewer', async (t) => {
  const viewers = newViewerSet()
  const sockets = [new RecordingSocket(), new RecordingSocket(), new RecordingSocket()]
  for (const socket of sockets) viewers.add(asViewer(socket), OFFLINE, ADDRESS)
  viewers.broadcast(LIVE)
  const frames = sockets.map((socket) => socket.sent[1])
  t.ok(frames.every((frame) => frame === frames[0]), 'the same Buffer, not a copy per viewer')
})

t.test('a viewer over the backlog bound is cut and skipped; one at the bound is not', async (t) => {
  const viewers = newViewerSet()
  const atBound = new RecordingSocket()
  const over = new RecordingSocket()
  viewers.add(asViewer(atBound), OFFLINE, ADDRESS)
  viewers.add(asViewer(over), OFFLINE, ADDRESS)
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
  const viewers = newViewerSet()
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, ADDRESS)
  socket.emit('close')
  t.equal(viewers.size, 0)
  viewers.broadcast(LIVE)
  t.equal(socket.sent.length, 1)
})

t.test('sweep pings everyone, then cuts those that did not answer', async (t) => {
  const viewers = newViewerSet()
  const answering = new RecordingSocket()
  const silent = new RecordingSocket()
  viewers.add(asViewer(answering), OFFLINE, ADDRESS)
  viewers.add(asViewer(silent), OFFLINE, ADDRESS)
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
  const viewers = newViewerSet()
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, ADDRESS)
  viewers.sweep()
  viewers.sweep()
  socket.emit('pong')
  t.equal(viewers.size, 0)
})

t.test('closeAll sends the code and waits for the handshakes', async (t) => {
  const viewers = newViewerSet()
  const sockets = [new RecordingSocket(), new RecordingSocket()]
  for (const socket of sockets) viewers.add(asViewer(socket), OFFLINE, ADDRESS)
  await viewers.closeAll(1001, 'bye', 10_000)
  t.same(sockets.map((socket) => socket.closedWith), [[1001, 'bye'], [1001, 'bye']])
  t.same(sockets.map((socket) => socket.terminated), [false, false])
  t.equal(viewers.size, 0)
})

t.test('closeAll cuts viewers that never finish the handshake', async (t) => {
  const viewers = newViewerSet()
  const polite = new RecordingSocket()
  const mute = new RecordingSocket(false)
  viewers.add(asViewer(polite), OFFLINE, ADDRESS)
  viewers.add(asViewer(mute), OFFLINE, ADDRESS)
  await viewers.closeAll(1001, 'bye', 20)
  t.equal(mute.terminated, true)
  t.equal(viewers.size, 0)
})

t.test('over the global cap a viewer is closed with 1013 and the others stay', async (t) => {
  const limits = new ViewerLimits({ maxViewers: 2, maxViewersPerAddress: 10 })
  const viewers = newViewerSet({ limits })
  const sockets = [new RecordingSocket(), new RecordingSocket(), new RecordingSocket()]
  const admitted = sockets.map((socket, i) => viewers.add(asViewer(socket), OFFLINE, `192.0.2.${i}`))
  t.same(admitted, [true, true, false])
  t.same(sockets[2]?.closedWith, [CLOSE_TRY_AGAIN_LATER, 'too many viewers'])
  t.equal(sockets[2]?.sent.length, 0, 'it was never sent the state')
  viewers.broadcast(LIVE)
  t.same(sockets.map((socket) => socket.sent.length), [2, 2, 0])
  t.equal(limits.admits('192.0.2.9'), false)
  sockets[0]?.emit('close')
  t.equal(limits.admits('192.0.2.9'), true, 'a place frees up when a viewer leaves')
})

t.test('over the per-address cap only that address is refused', async (t) => {
  const limits = new ViewerLimits({ maxViewers: 10, maxViewersPerAddress: 2 })
  const viewers = newViewerSet({ limits })
  t.ok(viewers.add(asViewer(new RecordingSocket()), OFFLINE, 'a'))
  t.ok(viewers.add(asViewer(new RecordingSocket()), OFFLINE, 'a'))
  const third = new RecordingSocket()
  t.notOk(viewers.add(asViewer(third), OFFLINE, 'a'))
  t.equal(third.closedWith?.[0], CLOSE_TRY_AGAIN_LATER)
  t.ok(viewers.add(asViewer(new RecordingSocket()), OFFLINE, 'b'))
  t.equal(viewers.size, 3)
})

t.test('a cut viewer gives its place back', async (t) => {
  const limits = new ViewerLimits({ maxViewers: 1, maxViewersPerAddress: 1 })
  const viewers = newViewerSet({ limits })
  const stuck = new RecordingSocket()
  viewers.add(asViewer(stuck), OFFLINE, 'a')
  stuck.bufferedAmount = BOUND + 1
  viewers.broadcast(LIVE)
  t.ok(limits.admits('a'))
})

t.test('a viewer sending more frames than allowed in a window is cut; others are untouched', async (t) => {
  const clock = new FakeClock()
  const viewers = newViewerSet({ maxFramesPerWindow: 5, frameWindowMs: 1000, clock })
  const polite = new RecordingSocket()
  const flooder = new RecordingSocket()
  viewers.add(asViewer(polite), OFFLINE, 'a')
  viewers.add(asViewer(flooder), OFFLINE, 'b')
  for (let i = 0; i < 5; i++) {
    polite.emit('message', Buffer.from('hi'))
    flooder.emit(['message', 'ping', 'pong'][i % 3] as string, Buffer.from('x'))
  }
  t.equal(flooder.terminated, false, 'five frames are allowed')
  flooder.emit('message', Buffer.from('x'))
  t.equal(flooder.terminated, true, 'the sixth is not')
  t.equal(polite.terminated, false)
  t.equal(viewers.size, 1)
  flooder.emit('message', Buffer.from('x'))
  t.equal(viewers.size, 1, 'frames already in flight from a cut viewer change nothing')
})

t.test('frames are counted per window: a steady trickle is never cut', async (t) => {
  const clock = new FakeClock()
  const viewers = newViewerSet({ maxFramesPerWindow: 5, frameWindowMs: 1000, clock })
  const chatty = new RecordingSocket()
  viewers.add(asViewer(chatty), OFFLINE, 'a')
  for (let second = 0; second < 60; second++) {
    for (let i = 0; i < 5; i++) chatty.emit('message', Buffer.from('ping'))
    clock.advance(1000)
  }
  t.equal(chatty.terminated, false, '300 messages at five a second')
})

t.test('a pong still counts as an answer to the keepalive', async (t) => {
  const viewers = newViewerSet({ maxFramesPerWindow: 1 })
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, 'a')
  viewers.sweep()
  socket.emit('pong')
  viewers.sweep()
  t.equal(socket.terminated, false)
  t.equal(socket.pings, 2)
})
