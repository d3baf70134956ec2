import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import WebSocket, { type ClientOptions } from 'ws'
import type { PublicState } from '../../src/public-state.js'

/** Collects a WebSocket's state messages and lets a test await the next ones. */
export class Inbox {
  readonly messages: PublicState[] = []
  #waiters: Array<{ count: number, resolve: (messages: PublicState[]) => void }> = []

  constructor (readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as PublicState)
      this.#waiters = this.#waiters.filter((waiter) => {
        if (this.messages.length < waiter.count) return true
        waiter.resolve(this.messages.slice(0, waiter.count))
        return false
      })
    })
  }

  /** Resolves once `count` messages have arrived in all, with the first `count`. */
  async upTo (count: number): Promise<PublicState[]> {
    if (this.messages.length >= count) return this.messages.slice(0, count)
    return new Promise((resolve) => this.#waiters.push({ count, resolve }))
  }

  async nth (n: number): Promise<PublicState> {
    return (await this.upTo(n)).at(-1) as PublicState
  }
}

export function wsUrl (app: FastifyInstance, path = '/ws/live'): string {
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('app is not listening on a port')
  return `ws://127.0.0.1:${address.port}${path}`
}

/** A real `ws` client on a real socket, listening before the handshake so the first message is kept. */
export async function connectViewer (app: FastifyInstance, options?: ClientOptions): Promise<Inbox> {
  const socket = new WebSocket(wsUrl(app), options)
  const inbox = new Inbox(socket)
  await once(socket, 'open')
  return inbox
}

/** An in-process viewer over injectWS, with its listener attached in onInit. */
export async function injectViewer (app: FastifyInstance): Promise<Inbox> {
  let inbox: Inbox | undefined
  // injectWS's request has no socket; the client address (request.ip) is read from one.
  const upgradeContext = { socket: { remoteAddress: '127.0.0.1' } } as unknown as Parameters<FastifyInstance['injectWS']>[1]
  await app.injectWS('/ws/live', upgradeContext, { onInit: (socket) => { inbox = new Inbox(socket) } })
  return inbox as Inbox
}

/** Resolves with the code the socket was closed with. */
export async function closeCode (socket: WebSocket): Promise<number> {
  const [code] = await once(socket, 'close') as [number]
  return code
}
