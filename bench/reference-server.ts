/**
 * The floor: cc-live's contract (protocol v2, for a laptop that reports no status: WebSocket,
 * Server-Sent Events, the JSON snapshot, heartbeat and stop) written with nothing but node:http
 * and ws, the least a Node.js server can do per request and per viewer. The benchmark holds the
 * service to ratios against this. Same environment variables as the service.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'

const key = Buffer.from(`Bearer ${process.env.CC_LIVE_API_KEY ?? ''}`)
const ttlMs = Number(process.env.CC_LIVE_TTL_SECONDS ?? 60) * 1000
const pingMs = Number(process.env.CC_LIVE_PING_SECONDS ?? 30) * 1000
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/
const MAX_BODY_BYTES = 4096

const expiries = new Map<string, number>()
/** When each session went live: its status (the bench sends none: `live`) since then. */
const starts = new Map<string, number>()
let sinceMs: number | null = null
let lastSeenMs: number | null = null
let seq = 0
let timer: NodeJS.Timeout | undefined
const streams = new Set<ServerResponse>()

const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString()

/** The v2 public state without its seq: what is compared to tell a change. */
function stateContent (): string {
  const activity = [...starts.values()].reverse().map((startedMs) => ({ status: 'live', since: iso(startedMs) }))
  return JSON.stringify({
    active: expiries.size > 0,
    status: expiries.size > 0 ? 'live' : 'offline',
    since: iso(sinceMs),
    sessions: expiries.size,
    lastSeen: iso(lastSeenMs),
    activity
  })
}

let content = stateContent()
let json = `{"seq":0,${content.slice(1)}`

function dropExpired (now: number): void {
  for (const [id, expiresAt] of expiries) {
    if (expiresAt <= now) end(id)
  }
}

function end (id: string): void {
  expiries.delete(id)
  starts.delete(id)
}

/** Re-arms the one timer for the earliest deadline and broadcasts if the public state changed. */
function commit (): void {
  const now = Date.now()
  dropExpired(now)
  if (expiries.size === 0 && sinceMs !== null) {
    sinceMs = null
    lastSeenMs = now
  }
  let earliest = Infinity
  for (const expiresAt of expiries.values()) earliest = Math.min(earliest, expiresAt)
  clearTimeout(timer)
  if (earliest !== Infinity) timer = setTimeout(commit, earliest - now)
  const next = stateContent()
  if (next === content) return
  content = next
  json = `{"seq":${++seq},${content.slice(1)}`
  const frame = Buffer.from(json)
  for (const viewer of wss.clients) viewer.send(frame, { binary: false })
  const event = Buffer.from(`id: ${seq}\ndata: ${json}\n\n`)
  for (const stream of streams) stream.write(event)
}

/** Server-Sent Events, as plainly as node:http allows. */
function stream (res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'access-control-allow-origin': '*', 'x-accel-buffering': 'no' })
  res.write(`retry: 5000\n\nid: ${seq}\ndata: ${json}\n\n`)
  streams.add(res)
  res.once('close', () => streams.delete(res))
}

function reply (res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'access-control-allow-origin': '*' })
  res.end(body)
}

function authorized (req: IncomingMessage): boolean {
  const given = Buffer.from(req.headers.authorization ?? '')
  return given.length === key.length && timingSafeEqual(given, key)
}

async function readSessionId (req: IncomingMessage): Promise<string | undefined | Error> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > MAX_BODY_BYTES) return new Error('body too large')
  }
  if (body === '') return undefined
  try {
    const id: unknown = JSON.parse(body).session_id
    if (id === undefined || (typeof id === 'string' && SESSION_ID.test(id))) return id
  } catch {}
  return new Error('bad body')
}

async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/ws/live') return req.headers.accept?.includes('text/event-stream') === true ? stream(res) : reply(res, 200, json)
  const action = req.method === 'POST' && /^\/api\/live\/(heartbeat|stop)$/.exec(req.url ?? '')?.[1]
  if (!action) return reply(res, 404, '{"error":"Not Found"}')
  if (!authorized(req)) return reply(res, 401, '{"error":"Unauthorized"}')
  const id = await readSessionId(req)
  if (id instanceof Error) return reply(res, 400, '{"error":"Bad Request"}')
  const now = Date.now()
  dropExpired(now)
  if (action === 'heartbeat') {
    const session = id ?? '(default)'
    if (expiries.size === 0) sinceMs = now
    if (!starts.has(session)) starts.set(session, now)
    expiries.set(session, now + ttlMs)
  } else if (id === undefined) {
    for (const session of [...expiries.keys()]) end(session)
  } else {
    end(id)
  }
  commit()
  reply(res, 200, json)
}

const server = createServer((req, res) => { handle(req, res).catch(() => reply(res, 500, '{"error":"Internal"}')) })
const wss = new WebSocketServer({ server, path: '/ws/live', maxPayload: 1024 })
const missedPing = new WeakSet<WebSocket>()
wss.on('connection', (viewer) => {
  viewer.send(json)
  viewer.on('pong', () => missedPing.delete(viewer))
})
setInterval(() => {
  for (const viewer of wss.clients) {
    if (missedPing.has(viewer)) viewer.terminate()
    missedPing.add(viewer)
    viewer.ping()
  }
}, pingMs).unref()

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1')
process.once('SIGTERM', () => process.exit(0))
