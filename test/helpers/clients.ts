import { request } from 'node:http'
import { WebSocket } from 'ws'

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface HttpCall {
  port: number
  path: string
  method?: string
  headers?: Record<string, string>
  body?: string
  /** The client's own address, to tell client and proxy apart on loopback (127.0.0.0/8). */
  localAddress?: string
}

/** One HTTP/1.1 request to 127.0.0.1 (fetch cannot choose its local address). */
export function httpCall ({ port, path, method = 'GET', headers = {}, body, localAddress }: HttpCall): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method, headers, localAddress }, (incoming) => {
      let text = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => { text += chunk })
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: text }))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** A WebSocket viewer whose messages queue up until read, so none is missed between awaits. */
export class Viewer {
  readonly socket: WebSocket
  readonly closed: Promise<{ code: number }>
  #queued: unknown[] = []
  #waiting: Array<{ resolve: (message: unknown) => void, reject: (error: Error) => void }> = []
  #failure: Error | undefined

  constructor (url: string, options: { localAddress?: string, headers?: Record<string, string> } = {}) {
    this.socket = new WebSocket(url, options)
    this.socket.on('message', (data) => {
      const message: unknown = JSON.parse(data.toString())
      const waiter = this.#waiting.shift()
      if (waiter === undefined) this.#queued.push(message)
      else waiter.resolve(message)
    })
    // A failed handshake or an early close fails the reads still waiting, instead of leaving them hanging.
    this.socket.on('error', (error) => this.#fail(error))
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => {
      this.#fail(new Error(`closed with ${code}`))
      resolve({ code })
    }))
  }

  #fail (error: Error): void {
    this.#failure ??= error
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error)
  }

  next (): Promise<unknown> {
    if (this.#queued.length > 0) return Promise.resolve(this.#queued.shift())
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }))
  }

  close (): void {
    this.socket.close()
  }
}
