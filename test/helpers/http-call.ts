import { request } from 'node:http'

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
