/**
 * Worker thread for the load test: a crowd of WebSocket viewers, kept off the
 * server's thread so the two run in parallel and the server's heap holds only
 * the server's side of each viewer.
 *
 * workerData: { url, count, connectingAtOnce }. Posts 'connected' once all are open.
 * On { expect: n, final: json } posts { wrongCount, wrongLast } once each viewer has
 * n messages; on 'leave' closes them all and posts 'left'.
 */
import { once } from 'node:events'
import { parentPort, workerData } from 'node:worker_threads'
import WebSocket from 'ws'

interface SwarmData { url: string, count: number, connectingAtOnce: number }
type Command = { expect: number, final: string } | 'leave'

/** A viewer that keeps only what the test checks: how many messages, and the last one. */
class CountingViewer {
  readonly socket: WebSocket
  count = 0
  last: Buffer | null = null
  #target = Infinity
  #reached: () => void = () => {}

  constructor (socket: WebSocket) {
    this.socket = socket
    socket.on('message', (data: Buffer) => {
      this.last = data
      if (++this.count === this.#target) this.#reached()
    })
  }

  async received (count: number): Promise<void> {
    if (this.count >= count) return
    this.#target = count
    await new Promise<void>((resolve) => { this.#reached = resolve })
  }
}

const { url, count, connectingAtOnce } = workerData as SwarmData
const port = parentPort as NonNullable<typeof parentPort>
const viewers: CountingViewer[] = []
for (let start = 0; start < count; start += connectingAtOnce) {
  const batch = Array.from({ length: Math.min(connectingAtOnce, count - start) }, () =>
    new CountingViewer(new WebSocket(url, { perMessageDeflate: false })))
  await Promise.all(batch.map((viewer) => once(viewer.socket, 'open')))
  viewers.push(...batch)
}
port.postMessage('connected')

port.on('message', async (command: Command) => {
  if (command === 'leave') {
    const closed = viewers.map((viewer) => once(viewer.socket, 'close'))
    for (const viewer of viewers) viewer.socket.close()
    await Promise.all(closed)
    port.postMessage('left')
    return
  }
  await Promise.all(viewers.map((viewer) => viewer.received(command.expect)))
  port.postMessage({
    wrongCount: viewers.filter((viewer) => viewer.count !== command.expect).length,
    wrongLast: viewers.filter((viewer) => viewer.last?.toString() !== command.final).length
  })
})
