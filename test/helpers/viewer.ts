import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import WebSocket, { type ClientOptions } from 'ws'
import type { PublicState } from '../../src/live/public-state.ts'

interface Waiter {
  count: number
  resolve: (messages: PublicState[]) => void
  reject: (error: Error) => void
}

/**
 * A WebSocket viewer for tests, listening from before the handshake so no message is missed.
 * Messages are kept in order; a test reads them one at a time with next(), or awaits a count
 * with upTo()/nth(). A close fails every read still waiting instead of leaving it hanging.
 */
export class ViewerClient {
  readonly socket: WebSocket
  readonly messages: PublicState[] = []
  readonly closed: Promise<{ code: number }>
  #taken = 0
  #waiters: Waiter[] = []
  #failure: Error | undefined

  constructor (socket: WebSocket) {
    this.socket = socket
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as PublicState)
      this.#waiters = this.#waiters.filter((waiter) => {
        if (this.messages.length < waiter.count) return true
        waiter.resolve(this.messages.slice(0, waiter.count))
        return false
      })
    })
    socket.on('error', (error) => this.#fail(error))
    this.closed = new Promise((resolve) => socket.once('close', (code) => {
      this.#fail(new Error(`closed with ${code}`))
      resolve({ code })
    }))
  }

  /** Resolves once `count` messages have arrived in all, with the first `count`. */
  async upTo (count: number): Promise<PublicState[]> {
    if (this.messages.length >= count) return this.messages.slice(0, count)
    if (this.#failure !== undefined) throw this.#failure
    return new Promise((resolve, reject) => this.#waiters.push({ count, resolve, reject }))
  }

  /** The n-th message (from 1). */
  async nth (n: number): Promise<PublicState> {
    return (await this.upTo(n)).at(-1) as PublicState
  }

  /** The message after the one the previous call returned. */
  async next (): Promise<PublicState> {
    return this.nth(++this.#taken)
  }

  close (): void {
    this.socket.close()
  }

  #fail (error: Error): void {
    this.#failure ??= error
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error)
  }
}

/** A viewer of any ws:// URL; resolves once the handshake is done. */
export async function openViewer (url: string, options?: ClientOptions): Promise<ViewerClient> {
  const viewer = new ViewerClient(new WebSocket(url, options))
  await once(viewer.socket, 'open')
  return viewer
}

export function wsUrl (app: FastifyInstance, path = '/ws/live'): string {
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('app is not listening on a port')
  return `ws://127.0.0.1:${address.port}${path}`
}

/** A real `ws` client on a real socket to a listening app. */
export async function connectViewer (app: FastifyInstance, options?: ClientOptions): Promise<ViewerClient> {
  return openViewer(wsUrl(app), options)
}

/** An in-process viewer over injectWS, with its listener attached in onInit. */
export async function injectViewer (app: FastifyInstance): Promise<ViewerClient> {
  let viewer: ViewerClient | undefined
  // injectWS's request has no socket; the client address (request.ip) is read from one.
  const upgradeContext = { socket: { remoteAddress: '127.0.0.1' } } as unknown as Parameters<FastifyInstance['injectWS']>[1]
  await app.injectWS('/ws/live', upgradeContext, { onInit: (socket) => { viewer = new ViewerClient(socket) } })
  return viewer as ViewerClient
}

/** Resolves with the code the socket was closed with. */
export async function closeCode (socket: WebSocket): Promise<number> {
  const [code] = await once(socket, 'close') as [number]
  return code
}
