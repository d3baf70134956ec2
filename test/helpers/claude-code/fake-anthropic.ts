import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for Anthropic's Messages API on 127.0.0.1, enough for the real Claude Code CLI to run
 * turns offline. Replies are scripted per prompt: a request whose latest user message contains a
 * scripted marker gets that script's first reply; a request carrying the `tool_result` of a scripted
 * `tool_use` gets the next one. Everything else (side requests, which come without tools, and
 * prompts nobody scripted) gets a plain text reply, so an unscripted turn simply ends.
 */

/** One assistant message the fake answers with. */
export type Reply = TextReply | ToolUseReply | HeldReply

interface TextReply { kind: 'text', text: string }
interface ToolUseReply { kind: 'tool_use', name: string, input: Record<string, unknown> }

export const text = (value: string): TextReply => ({ kind: 'text', text: value })

export const toolUse = (name: string, input: Record<string, unknown>): ToolUseReply => ({ kind: 'tool_use', name, input })

/** A text reply held back until the test releases it, so a turn stays "working" as long as the test likes. */
export class HeldReply {
  readonly kind = 'held'
  /** Resolves when the request this reply answers has arrived. */
  readonly arrived: Promise<void>
  readonly #released: Promise<string>
  #arrive = (): void => {}
  #release = (): void => {}

  constructor (text: string) {
    this.arrived = new Promise((resolve) => { this.#arrive = resolve })
    this.#released = new Promise((resolve) => { this.#release = () => resolve(text) })
  }

  /** Sends the reply. */
  release (): void {
    this.#release()
  }

  /** For the fake: the request has arrived; resolves with the text once released. */
  answer (): Promise<string> {
    this.#arrive()
    return this.#released
  }
}

export const held = (value: string): HeldReply => new HeldReply(value)

export interface FakeAnthropic {
  /** The base URL for ANTHROPIC_BASE_URL. */
  readonly url: string
  /** Answers the next prompt containing `marker` with `first`, and each tool_result that follows with the next reply. */
  script (marker: string, first: Reply, ...then: Reply[]): void
  /** Calls the fake does not know (method and path), which a newer CLI may make. */
  readonly unexpected: string[]
  /**
   * For each tool call, in order: the ms from the end of the reply that asked for it to the arrival
   * of the request carrying its result. The CLI's own time per tool call, hooks included.
   */
  readonly toolCallMs: number[]
  close (): Promise<void>
}

interface MessagesRequest {
  model?: string
  stream?: boolean
  tools?: unknown[]
  messages?: Array<{ role: string, content: string | Array<{ type: string, tool_use_id?: string, text?: string }> }>
}

interface Script { marker: string, replies: Reply[] }

const DEFAULT_REPLY = text('ok')

export async function startFakeAnthropic (): Promise<FakeAnthropic> {
  const scripts: Script[] = []
  /** The rest of a script, by the id of the tool_use whose result will ask for it. */
  const continuations = new Map<string, Reply[]>()
  const unexpected: string[] = []
  const toolCallMs: number[] = []
  /** When the reply with each tool_use was sent in full, by the tool_use's id. */
  const toolUseSent = new Map<string, bigint>()
  const heldOpen = new Set<ServerResponse>()
  let nextId = 0

  /** The reply for a request, taken from the script it belongs to. */
  function replyFor (request: MessagesRequest): { reply: Reply, rest: Reply[] } {
    // Newer releases put a system message (the environment) after the conversation.
    const last = request.messages?.filter(({ role }) => role === 'user').at(-1)
    // Side requests (a title, a summary) come without tools: never the scripted turn.
    if (last === undefined || (request.tools?.length ?? 0) === 0) return { reply: DEFAULT_REPLY, rest: [] }
    const content = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : last.content
    for (const block of content) {
      const sent = block.type === 'tool_result' && block.tool_use_id !== undefined ? toolUseSent.get(block.tool_use_id) : undefined
      if (sent !== undefined) {
        toolCallMs.push(Number(process.hrtime.bigint() - sent) / 1e6)
        toolUseSent.delete(block.tool_use_id as string)
      }
      const rest = block.type === 'tool_result' && block.tool_use_id !== undefined ? continuations.get(block.tool_use_id) : undefined
      if (rest !== undefined) {
        continuations.delete(block.tool_use_id as string)
        const [reply = DEFAULT_REPLY, ...after] = rest
        return { reply, rest: after }
      }
    }
    const said = JSON.stringify(content)
    const index = scripts.findIndex(({ marker }) => said.includes(marker))
    if (index === -1) return { reply: DEFAULT_REPLY, rest: [] }
    const [{ replies }] = scripts.splice(index, 1) as [Script]
    const [reply = DEFAULT_REPLY, ...rest] = replies
    return { reply, rest }
  }

  async function answerMessages (body: MessagesRequest, response: ServerResponse): Promise<void> {
    let { reply, rest } = replyFor(body)
    if (reply.kind === 'held') {
      heldOpen.add(response)
      const value = await reply.answer()
      heldOpen.delete(response)
      if (response.destroyed) return
      reply = text(value)
    }
    const id = `msg_fake_${++nextId}`
    const block = reply.kind === 'text'
      ? { type: 'text', text: reply.text }
      : { type: 'tool_use', id: `toolu_fake_${nextId}`, name: reply.name, input: reply.input }
    if (block.type === 'tool_use') continuations.set(block.id as string, rest)
    const stopReason = block.type === 'tool_use' ? 'tool_use' : 'end_turn'
    const message = { id, type: 'message', role: 'assistant', model: body.model ?? 'claude-fake', stop_sequence: null }
    const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
    const sent = (): void => { if (block.type === 'tool_use') toolUseSent.set(block.id as string, process.hrtime.bigint()) }
    if (body.stream !== true) {
      sendJson(response, { ...message, content: [block], stop_reason: stopReason, usage })
      sent()
      return
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    const event = (type: string, data: Record<string, unknown>): void => {
      response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
    }
    event('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } })
    if (block.type === 'text') {
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: block.text } })
    } else {
      event('content_block_start', { index: 0, content_block: { ...block, input: {} } })
      event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } })
    }
    event('content_block_stop', { index: 0 })
    event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 5 } })
    event('message_stop', {})
    response.end()
    sent()
  }

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    readBody(request).then(async (raw) => {
      if (request.method === 'POST' && path === '/v1/messages') return answerMessages(JSON.parse(raw) as MessagesRequest, response)
      if (request.method === 'POST' && path === '/v1/messages/count_tokens') return sendJson(response, { input_tokens: 10 })
      if (request.method === 'HEAD' && path === '/') return sendJson(response, {})
      unexpected.push(`${request.method} ${path}`)
      sendJson(response, {})
    }).catch((error: unknown) => {
      unexpected.push(`${request.method} ${path} failed: ${String(error)}`)
      if (!response.headersSent) response.writeHead(500)
      response.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    script: (marker, first, ...then) => { scripts.push({ marker, replies: [first, ...then] }) },
    unexpected,
    toolCallMs,
    async close () {
      // A reply still held would keep its connection, and so close(), open for ever.
      for (const response of heldOpen) response.destroy()
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    }
  }
}

function readBody (request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => { body += chunk })
    request.on('end', () => resolve(body))
    request.on('error', reject)
  })
}

function sendJson (response: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value)
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  response.end(body)
}
