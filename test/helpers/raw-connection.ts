import { once } from 'node:events'
import { connect, type Socket } from 'node:net'

/** A bare TCP connection for tests that write HTTP by hand and read every byte that comes back. */
export interface RawConnection {
  readonly socket: Socket
  /** Everything received so far. */
  readonly received: string
  /** Resolves with everything received once it contains `text`; rejects if the connection ends first. */
  until (text: string): Promise<string>
  /** Resolves with everything received once the server has ended the connection. */
  readonly ended: Promise<string>
}

/** `allowHalfOpen`: the client does not end its side when the server ends its own, as a hostile one may. */
export async function openRawConnection (port: number, { allowHalfOpen = false } = {}): Promise<RawConnection> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen })
  await once(socket, 'connect')
  socket.setEncoding('utf8')
  let received = ''
  const waiting = new Set<() => void>()
  socket.on('data', (chunk: string) => {
    received += chunk
    for (const check of waiting) check()
  })
  const ended = new Promise<string>((resolve) => socket.once('end', () => {
    for (const check of waiting) check()
    resolve(received)
  }))
  return {
    socket,
    get received () { return received },
    until: (text) => new Promise((resolve, reject) => {
      const check = () => {
        if (received.includes(text)) resolve(received)
        else if (socket.readableEnded) reject(new Error(`the connection ended before ${JSON.stringify(text)}; received ${JSON.stringify(received)}`))
        else return
        waiting.delete(check)
      }
      waiting.add(check)
      check()
    }),
    ended
  }
}
