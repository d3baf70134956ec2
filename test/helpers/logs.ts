import { Writable } from 'node:stream'

export interface LogLine {
  msg?: string
  req?: { method?: string, url?: string, remoteAddress?: string }
  [field: string]: unknown
}

/** A pino destination that keeps every line, parsed, so tests can assert on what the logs say. */
export function captureLogs (): { lines: LogLine[], logger: { stream: Writable } } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as LogLine)
      }
      done()
    }
  })
  return { lines, logger: { stream } }
}

/** The client address each request log line names, for one URL. */
export function loggedClientAddresses (lines: LogLine[], url: string): Array<string | undefined> {
  return lines.filter((line) => line.msg === 'incoming request' && line.req?.url === url).map((line) => line.req?.remoteAddress)
}
