/**
 * The cc-live browser client, served as /ws/live/client.js: the <cc-live-status> element and
 * subscribe() for custom UIs. Zero dependencies; it must stay under 4 KiB gzipped (test/routes/widget.test.ts).
 */

/**
 * One live session as the server shares it: its status, since when, and only the fields its owner shares.
 * @typedef {{ status: string, since: string, model?: string, project?: string, tool?: string }} Activity
 */
/**
 * The public state; a v1 server sends only `active`, `since` and `sessions`.
 * @typedef {{ active: boolean, status?: string, since: string | null, sessions: number, lastSeen?: string | null, seq?: number, activity?: Activity[] }} PublicState
 */
/** @typedef {'working' | 'waiting' | 'idle' | 'live' | 'offline' | 'connecting' | 'reconnecting'} Status */
/**
 * The last known state and whether it is current: 'reconnecting' keeps the rest of the last state
 * heard, because a lost connection says nothing about whether its owner is offline.
 * @typedef {{ status: Status, since: string | null, sessions: number, lastSeen: string | null, activity: Activity[], transport: string | null }} View
 */
/**
 * One way to reach the service. It calls onText with each state message and onEnd once when it stops
 * working, never synchronously; the function it returns closes it. `fresh` says the message came on a
 * new connection (each poll is one), so its `seq` is not compared with earlier ones: a restarted
 * server may count again from the start.
 * @typedef {(url: string, onText: (text: string, fresh?: boolean) => void, onEnd: (code?: number) => void, options: Options) => () => void} Transport
 */
/**
 * @typedef {object} Options
 * @property {number} [retryMs] first backoff window, 1 s by default
 * @property {number} [maxRetryMs] backoff cap, 30 s by default
 * @property {number} [pollMs] polling period when only the JSON snapshot gets through, 30 s by default
 * @property {number} [hiddenMs] how long a hidden page keeps its connection, 5 min by default
 * @property {() => number} [random]
 * @property {Record<string, Transport>} [transports] tried in order until one delivers a state
 */

/** Exponential backoff with full jitter; a connection that stayed up for healthyMs starts it over. */
export class Backoff {
  #attempt = 0
  /** @type {number | null} */
  #openedAt = null

  /** @param {{ base?: number, cap?: number, healthyMs?: number, random?: () => number, now?: () => number }} [options] */
  constructor ({ base = 1000, cap = 30000, healthyMs = 10000, random = Math.random, now = Date.now } = {}) {
    this.base = base
    this.cap = cap
    this.healthyMs = healthyMs
    this.random = random
    this.now = now
  }

  /** The connection delivered its first state. */
  opened () {
    this.#openedAt = this.now()
  }

  reset () {
    this.#attempt = 0
  }

  /** Milliseconds to wait before the next attempt: uniformly random below a window that doubles per failure. */
  next () {
    if (this.#openedAt !== null && this.now() - this.#openedAt >= this.healthyMs) this.#attempt = 0
    this.#openedAt = null
    return this.random() * Math.min(this.cap, this.base * 2 ** this.#attempt++)
  }
}

/** The statuses a server reports, each meaning a session is live except the last. */
const STATUSES = ['working', 'waiting', 'idle', 'live', 'offline']
const TEXT = { connecting: 'connecting…', reconnecting: 'reconnecting…' }

/** Whole minutes from `time` to `now`, never negative (a browser clock may be behind the server's). @param {string} time @param {number} now */
const minutesSince = (time, now) => Math.max(0, Math.floor((now - Date.parse(time)) / 60000))

/** @param {string} since @param {number} now */
export function formatDuration (since, now) {
  const minutes = minutesSince(since, now)
  const hours = Math.floor(minutes / 60)
  if (minutes < 1) return '<1 min'
  return hours ? `${hours} h` + (minutes % 60 ? ` ${minutes % 60} min` : '') : `${minutes} min`
}

/** "just now", "5 min ago", "2 h ago", "3 d ago": coarse on purpose. @param {string} time @param {number} now */
export function formatAgo (time, now) {
  const minutes = minutesSince(time, now)
  if (minutes < 1) return 'just now'
  return (minutes < 60 ? `${minutes} min` : minutes < 1440 ? `${Math.floor(minutes / 60)} h` : `${Math.floor(minutes / 1440)} d`) + ' ago'
}

/**
 * The shared fields of the most relevant session, "Opus 4.5 · blog · editing": the first (most
 * recently changed) in the status shown, else the first; '' when it shares none.
 * @param {View} view
 */
export function activityLine ({ status, activity }) {
  const entry = activity.find((session) => session.status === status) ?? activity[0]
  return entry ? [entry.model, entry.project, entry.tool].filter(Boolean).join(' · ') : ''
}

/**
 * The texts of the element's parts, '' where there is nothing to say: the status; while live, how long
 * for and the activity line; while offline, when last seen.
 * @param {View} view @param {number} now @returns {[label: string, since: string, lastSeen: string, activity: string]}
 */
export function describe (view, now) {
  const { status, since, lastSeen } = view
  const live = status !== 'offline' && STATUSES.includes(status)
  return [
    TEXT[/** @type {keyof TEXT} */ (status)] ?? status,
    live && since ? formatDuration(since, now) : '',
    status === 'offline' && lastSeen ? `last seen ${formatAgo(lastSeen, now)}` : '',
    live ? activityLine(view) : ''
  ]
}

/** "working · 42 min · Opus 4.5 · blog · editing", "offline · last seen 2 h ago", "reconnecting…". @param {View} view */
export function formatLabel (view, now = Date.now()) {
  return describe(view, now).filter(Boolean).join(' · ')
}

/** @param {string} text @returns {PublicState | undefined} */
function parse (text) {
  try {
    const state = JSON.parse(text)
    if (typeof state.active === 'boolean') return state
  } catch {}
}

/**
 * The view of a state; a v1 server's (no `status`), or a status this client does not know yet, reads
 * as live or offline. @param {PublicState} state @param {string} transport @returns {View}
 */
export function toView ({ active, status, since, sessions, lastSeen = null, activity = [] }, transport) {
  const known = /** @type {Status} */ (STATUSES.includes(status ?? '') ? status : active ? 'live' : 'offline')
  return { status: known, since, sessions, lastSeen, activity, transport }
}

/** @type {Record<string, Transport>} */
const TRANSPORTS = {
  websocket (url, onText, onEnd) {
    const socket = new WebSocket(url)
    socket.onmessage = (event) => onText(event.data)
    socket.onclose = (event) => onEnd(event.code)
    return () => {
      socket.onclose = null
      socket.close()
    }
  },
  // Our own backoff decides when to retry, so the EventSource is closed at its first error.
  sse (url, onText, onEnd) {
    const source = new EventSource(url.replace(/^ws/, 'http'))
    source.onmessage = (event) => onText(event.data)
    source.onerror = () => onEnd()
    return () => source.close()
  },
  poll (url, onText, onEnd, { pollMs = 30000 }) {
    const abort = new AbortController()
    let timer = 0
    const get = () => fetch(url.replace(/^ws/, 'http'), { cache: 'no-store', signal: abort.signal })
      .then((response) => response.ok ? response.text() : Promise.reject(new Error(`${response.status}`)))
      .then((text) => {
        timer = setTimeout(get, pollMs)
        onText(text, true)
      }, () => onEnd())
    get()
    return () => {
      abort.abort()
      clearTimeout(timer)
    }
  }
}

const CONNECT_TIMEOUT_MS = 10000
const noop = () => {}

/** One connection to one URL, shared by every subscriber to it. */
class Link {
  /** @type {Set<(view: View) => void>} */
  listeners = new Set()
  /** @type {View} */
  view = { status: 'connecting', since: null, sessions: 0, lastSeen: null, activity: [], transport: null }
  /**
   * The transport that has worked on this page, the only one retried from then on: a server that is
   * down refuses every transport alike, and a restart must not leave the page on a fallback.
   * @type {number | undefined}
   */
  #proven
  /** Stops the attempt in progress; callbacks from any other attempt are stale. */
  #halt = noop
  #retry = 0
  #hiddenTimer = 0
  #paused = false

  /** @param {string} url @param {Options} options */
  constructor (url, options) {
    this.url = url
    this.options = options
    this.backoff = new Backoff({ base: options.retryMs, cap: options.maxRetryMs, random: options.random })
    this.transports = Object.entries(options.transports ?? TRANSPORTS)
    this.#connect(0)
    globalThis.document?.addEventListener('visibilitychange', this.#onVisibility)
  }

  close () {
    this.#stop()
    clearTimeout(this.#hiddenTimer)
    globalThis.document?.removeEventListener('visibilitychange', this.#onVisibility)
  }

  /** Until one has worked, a transport that fails before its first state hands over to the next at once. */
  #connect (/** @type {number} */ index) {
    const [name, open] = /** @type {[string, Transport]} */ (this.transports[index])
    let working = false
    let seq = -Infinity
    let close = noop
    const halt = () => {
      clearTimeout(deadline)
      close()
    }
    /** @param {number} [code] */
    const end = (code) => {
      if (this.#halt !== halt) return
      this.#stop()
      if (this.#proven === undefined && index + 1 < this.transports.length) return this.#connect(index + 1)
      // 1001: the server is restarting, not failing; come back soon, each tab at its own random moment.
      if (code === 1001) this.backoff.reset()
      this.#emit({ ...this.view, status: 'reconnecting' })
      this.#retry = setTimeout(() => this.#connect(this.#proven ?? 0), this.backoff.next())
    }
    const deadline = setTimeout(end, CONNECT_TIMEOUT_MS)
    this.#halt = halt
    close = open(this.url, (text, fresh) => {
      const state = parse(text)
      if (!state || this.#halt !== halt) return
      // A message not newer than the last one on this connection is stale; an old server sends no seq.
      if (fresh) seq = -Infinity
      if (state.seq !== undefined) {
        if (state.seq <= seq) return
        seq = state.seq
      }
      if (!working) {
        working = true
        clearTimeout(deadline)
        this.#proven = index
        this.backoff.opened()
      }
      this.#emit(toView(state, name))
    }, end, this.options)
  }

  #stop () {
    this.#halt()
    this.#halt = noop
    clearTimeout(this.#retry)
  }

  /** @param {View} view */
  #emit (view) {
    if (JSON.stringify(view) === JSON.stringify(this.view)) return
    this.view = view
    for (const listener of this.listeners) listener(view)
  }

  // A tab left in the background should not hold a connection for ever, nor retry for nobody.
  #onVisibility = () => {
    clearTimeout(this.#hiddenTimer)
    if (document.hidden) {
      this.#hiddenTimer = setTimeout(() => {
        this.#paused = true
        this.#stop()
        this.#emit({ ...this.view, status: 'reconnecting' })
      }, this.options.hiddenMs ?? 300000)
    } else if (this.#paused) {
      this.#paused = false
      this.backoff.reset()
      this.#connect(this.#proven ?? 0)
    }
  }
}

/**
 * The page's connections, one per URL. Kept on the page rather than in this module, so that a copy
 * of the module loaded under another URL (client.js?v=… beside client.js, which history.js imports)
 * shares them too.
 * @type {Map<string, Link>}
 */
const links = /** @type {any} */ (globalThis).ccLiveLinks ??= new Map()

/**
 * Calls onState with the current view now and on every change; several subscribers to the same URL
 * share one connection, and the first one's options configure it. Returns the unsubscribe function.
 * @param {string} url the /ws/live endpoint (ws:, wss:, http:, https: or relative to the page)
 * @param {(view: View) => void} onState
 * @param {Options} [options]
 */
export function subscribe (url, onState, options = {}) {
  const key = new URL(url, globalThis.location?.href).href.replace(/^http/, 'ws')
  const link = links.get(key) ?? new Link(key, options)
  links.set(key, link)
  /** @param {View} view */
  const listener = (view) => onState(view)
  link.listeners.add(listener)
  onState(link.view)
  return () => {
    link.listeners.delete(listener)
    if (link.listeners.size || links.get(key) !== link) return
    link.close()
    links.delete(key)
  }
}

// Each status has its own shape as well as its own colour and word: offline a ring, live a dot, working a
// dot in a ring that pings outwards, waiting a diamond, idle a half-filled ring, (re)connecting a dotted ring.
// The host's `hide` attribute lists parts not to show.
const STYLE = `:host{display:inline-flex;align-items:center}[part]{white-space:pre-wrap}
:host([hidden]),[part]:not([part=dot]):empty,:host([hide~=since]) [part=since],:host([hide~=last-seen]) [part=last-seen],:host([hide~=activity]) [part=activity]{display:none}
[part=dot]{--c:var(--cc-live-offline-color,#8c959f);box-sizing:border-box;flex:none;width:var(--cc-live-dot-size,.6em);height:var(--cc-live-dot-size,.6em);margin:0 .5em 0 .2em;border:.15em solid var(--c);border-radius:50%}
:host([state=live]) [part=dot]{--c:var(--cc-live-color,#1a7f37);background:var(--c)}
:host([state=working]) [part=dot]{--c:var(--cc-live-working-color,var(--cc-live-color,#1a7f37));background:var(--c);outline:.1em solid var(--c);outline-offset:.1em}
:host([state=waiting]) [part=dot]{--c:var(--cc-live-waiting-color,#bc4c00);background:var(--c);border-radius:0;transform:rotate(45deg) scale(.85)}
:host([state=idle]) [part=dot]{--c:var(--cc-live-idle-color,#0969da);background:linear-gradient(90deg,var(--c) 50%,#0000 0)}
:host([state$=connecting]) [part=dot]{--c:var(--cc-live-reconnecting-color,#9a6700);border-style:dotted}
@keyframes cc-pulse{from{outline-offset:0}to{outline-offset:.2em;outline-color:#0000}}
@media (prefers-reduced-motion:no-preference){:host([state=working]) [part=dot]{animation:cc-pulse 1.5s ease-out infinite}}`

if (globalThis.customElements && !customElements.get('cc-live-status')) {
  customElements.define('cc-live-status', class extends HTMLElement {
    #unsubscribe = noop
    #stopToday = noop
    #tick = 0
    /** @type {Element[]} the label, since, last-seen and activity parts */
    #text = []

    connectedCallback () {
      const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' })
      // Only the label is a live region: the parts after it change every minute or every tool call, and
      // must not be announced each time.
      root.innerHTML = `<style>${STYLE}</style><span part="dot" aria-hidden="true"></span><span part="label" role="status" aria-live="polite"></span><span part="since"></span><span part="last-seen"></span><span part="activity"></span>`
      this.#text = [...root.children].slice(2)
      /** @param {string} name */
      const number = (name) => this.hasAttribute(name) ? Number(this.getAttribute(name)) : undefined
      const src = this.getAttribute('src') ?? '/ws/live'
      this.#unsubscribe = subscribe(src, (view) => this.#render(view), {
        retryMs: number('retry-ms'), maxRetryMs: number('max-retry-ms'), pollMs: number('poll-ms'), hiddenMs: number('hidden-ms')
      })
      // show="today": "3 h 12 min today", from the history module, loaded only then.
      if (/\btoday\b/.test(this.getAttribute('show') ?? '')) {
        const part = root.appendChild(document.createElement('span'))
        part.setAttribute('part', 'today')
        import(new URL('history.js', import.meta.url).href).then(({ watchToday }) => {
          if (this.isConnected) this.#stopToday = watchToday(src, (/** @type {string} */ text) => { part.textContent = ` · ${text}` })
        }, noop)
      }
    }

    disconnectedCallback () {
      this.#unsubscribe()
      this.#stopToday()
      clearTimeout(this.#tick)
    }

    /** @param {View} view */
    #render (view) {
      const now = Date.now()
      const texts = describe(view, now)
      clearTimeout(this.#tick)
      this.setAttribute('state', view.status)
      this.#text.forEach((part, index) => {
        const text = index && texts[index] ? ` · ${texts[index]}` : texts[index] ?? ''
        // Rewriting the same text replaces the node, which a screen reader may announce again.
        if (part.textContent !== text) part.textContent = text
      })
      // Next re-render when the minute count since the time shown changes.
      const time = texts[1] ? view.since : texts[2] && view.lastSeen
      if (time) this.#tick = setTimeout(() => this.#render(view), 60000 - (now - Date.parse(time)) % 60000)
    }
  })
}
