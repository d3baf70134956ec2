import { EventEmitter } from 'node:events'
import t from 'tap'
import { FakeClock } from '../../helpers/fake-clock.ts'
import { LIVE as LIVE_STATE, OFFLINE as OFFLINE_STATE, snapshot } from '../../helpers/states.ts'
import { CLOSE_GOING_AWAY, ViewerSet, type ViewerSetOptions, type ViewerSocket } from '../../../src/viewers/websockets.ts'

/** Records what the viewer set does to a socket; `answersClose` decides whether it finishes the close handshake. */
class RecordingSocket extends EventEmitter {
  bufferedAmount = 0
  sent: Buffer[] = []
  pings = 0
  terminated = false
  closedWith: [number, string] | null = null
  readonly answersClose: boolean

  constructor (answersClose = true) {
    super()
    this.answersClose = answersClose
  }

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
const OFFLINE = snapshot(OFFLINE_STATE)
const LIVE = snapshot(LIVE_STATE)
const BOUND = 1000

function newViewerSet (options: Partial<ViewerSetOptions> = {}) {
  return new ViewerSet({
    maxBufferedBytes: BOUND,
    maxFramesPerWindow: 100,
    frameWindowMs: 1000,
    closeTimeoutMs: 10_000,
    ...options
  })
}

/** A viewer's place as admission hands it out, counting how often it is given back. */
function place (): { release: () => void, released: number } {
  const counted = { released: 0, release: () => { counted.released++ } }
  return counted
}
const noPlace = () => {}

t.test('a joining viewer gets the current state, then every broadcast', async (t) => {
  const viewers = newViewerSet()
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, noPlace)
  viewers.broadcast(LIVE)
  t.same(socket.sent.map(String), [OFFLINE.json, LIVE.json])
})

t.test('one frame is shared by every viewer', async (t) => {
  const viewers = newViewerSet()
  const sockets = [new RecordingSocket(), new RecordingSocket(), new RecordingSocket()]
  for (const socket of sockets) viewers.add(asViewer(socket), OFFLINE, noPlace)
  viewers.broadcast(LIVE)
  const frames = sockets.map((socket) => socket.sent[1])
  t.ok(frames.every((frame) => frame === frames[0]), 'the same Buffer, not a copy per viewer')
})

t.test('a viewer over the backlog bound is cut and skipped; one at the bound is not', async (t) => {
  const viewers = newViewerSet()
  const atBound = new RecordingSocket()
  const over = new RecordingSocket()
  viewers.add(asViewer(atBound), OFFLINE, noPlace)
  viewers.add(asViewer(over), OFFLINE, noPlace)
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
  viewers.add(asViewer(socket), OFFLINE, noPlace)
  socket.emit('close')
  t.equal(viewers.size, 0)
  viewers.broadcast(LIVE)
  t.equal(socket.sent.length, 1)
})

t.test('keepalive pings everyone, then cuts those that did not answer', async (t) => {
  const viewers = newViewerSet()
  const answering = new RecordingSocket()
  const silent = new RecordingSocket()
  viewers.add(asViewer(answering), OFFLINE, noPlace)
  viewers.add(asViewer(silent), OFFLINE, noPlace)
  viewers.keepalive()
  t.same([answering.pings, silent.pings], [1, 1])
  answering.emit('pong')
  viewers.keepalive()
  t.equal(silent.terminated, true)
  t.equal(answering.terminated, false)
  t.equal(answering.pings, 2)
  t.equal(viewers.size, 1)
})

t.test('a pong from a viewer already cut does not bring it back', async (t) => {
  const viewers = newViewerSet()
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, noPlace)
  viewers.keepalive()
  viewers.keepalive()
  socket.emit('pong')
  t.equal(viewers.size, 0)
})

t.test('closeAll sends the code and waits for the handshakes', async (t) => {
  const viewers = newViewerSet()
  const sockets = [new RecordingSocket(), new RecordingSocket()]
  for (const socket of sockets) viewers.add(asViewer(socket), OFFLINE, noPlace)
  await viewers.closeAll()
  t.same(sockets.map((socket) => socket.closedWith), [[CLOSE_GOING_AWAY, 'server shutting down'], [CLOSE_GOING_AWAY, 'server shutting down']])
  t.same(sockets.map((socket) => socket.terminated), [false, false])
  t.equal(viewers.size, 0)
})

t.test('closeAll cuts viewers that never finish the handshake', async (t) => {
  const viewers = newViewerSet({ closeTimeoutMs: 20 })
  const polite = new RecordingSocket()
  const mute = new RecordingSocket(false)
  viewers.add(asViewer(polite), OFFLINE, noPlace)
  viewers.add(asViewer(mute), OFFLINE, noPlace)
  await viewers.closeAll()
  t.equal(mute.terminated, true)
  t.equal(viewers.size, 0)
})

t.test('a viewer gives its place back exactly once: when it closes, when it is cut, or both', async (t) => {
  const viewers = newViewerSet()
  const [closing, stuck, silent] = [new RecordingSocket(), new RecordingSocket(), new RecordingSocket()]
  const places = [place(), place(), place()]
  viewers.add(asViewer(closing), OFFLINE, places[0]!.release)
  viewers.add(asViewer(stuck), OFFLINE, places[1]!.release)
  viewers.add(asViewer(silent), OFFLINE, places[2]!.release)
  closing.emit('close')
  stuck.bufferedAmount = BOUND + 1
  viewers.broadcast(LIVE)
  viewers.keepalive()
  silent.bufferedAmount = 0
  viewers.keepalive()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(stuck.terminated && silent.terminated, true, 'both were cut, and their sockets have closed since')
  t.same(places.map(({ released }) => released), [1, 1, 1])
  t.equal(viewers.size, 0)
})

t.test('a viewer sending more frames than allowed in a window is cut; others are untouched', async (t) => {
  const clock = new FakeClock()
  const viewers = newViewerSet({ maxFramesPerWindow: 5, frameWindowMs: 1000, clock })
  const polite = new RecordingSocket()
  const flooder = new RecordingSocket()
  viewers.add(asViewer(polite), OFFLINE, noPlace)
  viewers.add(asViewer(flooder), OFFLINE, noPlace)
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
  viewers.add(asViewer(chatty), OFFLINE, noPlace)
  for (let second = 0; second < 60; second++) {
    for (let i = 0; i < 5; i++) chatty.emit('message', Buffer.from('ping'))
    clock.advance(1000)
  }
  t.equal(chatty.terminated, false, '300 messages at five a second')
})

t.test('a pong still counts as an answer to the keepalive', async (t) => {
  const viewers = newViewerSet({ maxFramesPerWindow: 1 })
  const socket = new RecordingSocket()
  viewers.add(asViewer(socket), OFFLINE, noPlace)
  viewers.keepalive()
  socket.emit('pong')
  viewers.keepalive()
  t.equal(socket.terminated, false)
  t.equal(socket.pings, 2)
})
