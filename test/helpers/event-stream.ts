import { get, type IncomingMessage } from 'node:http'

/** A Server-Sent Events client for tests: each call to next() gives the next block ("data: …", ": keepalive"). */
export interface EventStream {
  readonly response: IncomingMessage
  /** null once the server has ended the stream. */
  next (): Promise<string | null>
  close (): void
}

export async function openEventStream (url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  // Its own connection (no agent), so nothing else is left open on the server when the test closes it.
  const request = get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false })
  const response = await new Promise<IncomingMessage>((resolve, reject) => request.once('response', resolve).once('error', reject))
  response.setEncoding('utf8')
  const chunks = response[Symbol.asyncIterator]()
  let buffered = ''
  return {
    response,
    async next () {
      for (;;) {
        const end = buffered.indexOf('\n\n')
        if (end !== -1) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          return block
        }
        const { done, value } = await chunks.next()
        if (done) return null
        buffered += value
      }
    },
    close: () => request.destroy()
  }
}
