import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { AUTH, TEST_ENV } from '../helpers/app.ts'
import { chromiumMissing, launchChromium } from '../helpers/browser.ts'
import { startNoWebSocketProxy } from '../helpers/no-websocket-proxy.ts'

/** Screenshots of the element in each state, to look at after a run (gitignored with .tap/). */
const ARTIFACTS = '.tap/artifacts/widget'
/** The README's pictures of each state, rewritten by every run: a change shows in git status. */
const DOC_IMAGES = 'docs/images'
/** Fast retries, so a restart test takes a fraction of a second instead of the default 1 s window. */
const ELEMENT = '<cc-live-status retry-ms="50" max-retry-ms="200"></cc-live-status>'
/** The time live in the README's pictures: the page's clock is set this far ahead of the server's. */
const PICTURE_LIVE_MS = 42.5 * 60_000
/** What a session shares in the pictures and tests: a model, a mapped project and a tool verb. */
const EDITING = { model: 'Opus 4.5', project: 'blog', tool: 'editing' }

declare global {
  interface Window {
    /** Every state the first element has shown, in order. */
    states: string[]
  }
}

/** The page under test, holding `body`; served by the app itself, so the element's default URL is its /ws/live. */
function testPage (body: string): string {
  return `<!doctype html><meta charset="utf-8"><title>widget test</title>
<style>body { margin: 0; font: 16px/1.5 sans-serif; color: #1f2328; } #shot { display: inline-block; padding: 8px 12px; }</style>
<script>
  window.states = []
  new MutationObserver(() => {
    const state = document.querySelector('cc-live-status')?.getAttribute('state')
    if (state && state !== window.states.at(-1)) window.states.push(state)
  }).observe(document, { subtree: true, attributeFilter: ['state'] })
</script>
<script type="module" src="/ws/live/client.js"></script>
<div id="shot">${body}</div>`
}

if (chromiumMissing) {
  t.plan(0, chromiumMissing)
} else {
  // Ten scenarios in a real browser take about 20 s, more on a busy machine: past tap's default 30 s per file.
  t.setTimeout(120_000)
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  await mkdir(ARTIFACTS, { recursive: true })

  /** The app, listening, with the test page at /widget-test when `page` is given. Closed when the test ends. */
  async function listen (t: Test, { page, port = 0 }: { page?: string, port?: number } = {}): Promise<{ app: FastifyInstance, origin: string }> {
    const app = buildApp({ env: TEST_ENV })
    t.teardown(() => app.close())
    if (page !== undefined) app.get('/widget-test', async (_request, reply) => reply.type('text/html').send(testPage(page)))
    return { app, origin: await app.listen({ port, host: '127.0.0.1' }) }
  }

  /**
   * A page at `url`. `fakeClock`: the page's timers and Date are Playwright's, running from now, for the
   * test to move on with page.clock.fastForward().
   */
  async function openPage (t: Test, url: string, { fakeClock = false, deviceScaleFactor }: { fakeClock?: boolean, deviceScaleFactor?: number } = {}): Promise<Page> {
    const page = await browser.newPage({ deviceScaleFactor })
    t.teardown(() => page.close())
    if (fakeClock) await page.clock.install()
    await page.goto(url)
    return page
  }

  /** Waits until the `index`-th element shows `state` with exactly `label` (state attribute and the text a reader sees). */
  async function shows (page: Page, state: string, label: string, { timeout = 1000, index = 0 } = {}): Promise<void> {
    await page.waitForFunction(([state, label, index]) => {
      const element = document.querySelectorAll('cc-live-status')[index as number]
      const text = [...element?.shadowRoot?.querySelectorAll('[part]') ?? []]
        .filter((part) => part.checkVisibility()).map((part) => part.textContent).join('')
      return element?.getAttribute('state') === state && text === label
    }, [state, label, index], { timeout })
  }

  /** The test page's element and its padding; a still frame, so the pictures do not depend on timing. */
  async function screenshot (page: Page, name: string, directory = ARTIFACTS): Promise<void> {
    await page.locator('#shot').screenshot({ path: join(directory, `${name}.png`), animations: 'disabled' })
  }

  /** The first element's dot as drawn: its colour and its shape, the shape described without any colour. */
  function dot (page: Page): Promise<{ colour: string, shape: string, animation: string }> {
    return page.locator('cc-live-status').first().evaluate((element) => {
      const style = getComputedStyle(element.shadowRoot!.querySelector('[part=dot]')!)
      const fill = style.backgroundImage !== 'none' ? 'part-filled' : style.backgroundColor === 'rgba(0, 0, 0, 0)' ? 'hollow' : 'filled'
      return {
        colour: style.borderTopColor,
        shape: [fill, `radius ${style.borderTopLeftRadius}`, `border ${style.borderTopStyle}`, `transform ${style.transform}`, `outline ${style.outlineStyle}`].join(', '),
        animation: style.animationName
      }
    })
  }

  /** The laptop's API, as the hooks call it: `body` is a heartbeat's or stop's JSON body, none by default. */
  async function post (app: FastifyInstance, action: 'heartbeat' | 'stop', body?: object): Promise<void> {
    const response = await app.inject({ method: 'POST', url: `/api/live/${action}`, headers: AUTH, ...(body && { payload: body }) })
    if (response.statusCode !== 200) throw new Error(`${action} answered ${response.statusCode}: ${response.body}`)
  }

  t.test('offline; a heartbeat, and it says live within 1 s; stop, and offline within 1 s', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await openPage(t, `${origin}/widget-test`)
    await shows(page, 'offline', 'offline', { timeout: 5000 })
    await screenshot(page, 'offline')

    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min')
    await screenshot(page, 'live')
    const status = page.getByRole('status')
    t.equal(await status.textContent(), 'live', 'the state is in the live region as text')
    t.equal(await status.getAttribute('aria-live'), 'polite')

    await post(app, 'stop')
    await shows(page, 'offline', 'offline · last seen just now')
    t.same(await page.evaluate(() => window.states), ['connecting', 'offline', 'live', 'offline'])
  })

  t.test('the time live is counted from since and updated every minute', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await openPage(t, `${origin}/widget-test`, { fakeClock: true })
    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min', { timeout: 5000 })
    // Half a minute past the boundary: the page's fake clock may start a few milliseconds behind the server's.
    await page.clock.fastForward('42:30')
    await shows(page, 'live', 'live · 42 min')
    await screenshot(page, 'live-42-min')
    await page.clock.fastForward('22:30')
    await shows(page, 'live', 'live · 1 h 5 min')
  })

  t.test('each status has its own word, state attribute and dot, and its shape is not the colour alone', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await browser.newPage({ deviceScaleFactor: 2 })
    t.teardown(() => page.close())
    // Held until released, so the element stays connecting for its picture.
    let release = () => {}
    await page.routeWebSocket(/\/ws\/live$/, (socket) => { release = () => socket.connectToServer() })
    // The page's clock runs PICTURE_LIVE_MS ahead of the server's, so the pictures say "42 min".
    await page.clock.setFixedTime(Date.now() + PICTURE_LIVE_MS)
    await page.goto(`${origin}/widget-test`)
    await mkdir(DOC_IMAGES, { recursive: true })
    const seen = new Map<string, { label: string, colour: string, shape: string }>()
    async function record (state: string, label: string): Promise<void> {
      await shows(page, state, label, { timeout: 5000 })
      seen.set(state, { label, ...await dot(page) })
      await screenshot(page, `widget-${state}`, DOC_IMAGES)
    }

    await record('connecting', 'connecting…')
    release()
    await shows(page, 'offline', 'offline', { timeout: 5000 })
    await post(app, 'heartbeat', { session_id: 'blog', status: 'working', activity: EDITING })
    await record('working', 'working · 42 min · Opus 4.5 · blog · editing')
    await post(app, 'heartbeat', { session_id: 'blog', status: 'waiting', activity: { model: 'Opus 4.5', project: 'blog' } })
    await record('waiting', 'waiting · 42 min · Opus 4.5 · blog')
    await post(app, 'heartbeat', { session_id: 'blog', status: 'idle', activity: {} })
    await record('idle', 'idle · 42 min')
    await post(app, 'heartbeat', { session_id: 'old-daemon' })
    await record('live', 'live · 42 min')
    await page.clock.setFixedTime(Date.now() + 130.5 * 60_000)
    await post(app, 'stop')
    await record('offline', 'offline · last seen 2 h ago')
    await app.close()
    await record('reconnecting', 'reconnecting…')

    const distinct = (key: 'label' | 'shape', states = [...seen.keys()]) => new Set(states.map((state) => seen.get(state)![key])).size
    t.equal(distinct('label'), seen.size, 'a word for each')
    const told = ['working', 'waiting', 'idle', 'live', 'offline', 'reconnecting']
    t.equal(distinct('shape', told), told.length, `a shape for each: ${told.map((state) => `${state}: ${seen.get(state)!.shape}`).join('; ')}`)
    t.equal(seen.get('connecting')!.shape, seen.get('reconnecting')!.shape, 'connecting and reconnecting share the not-known ring')
    t.same(await page.evaluate(() => window.states), ['connecting', 'offline', ...told], 'the host\'s state attribute is the status word')
  })

  t.test('working pulses, and under prefers-reduced-motion keeps its shape without moving', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    await post(app, 'heartbeat', { status: 'working' })
    const page = await openPage(t, `${origin}/widget-test`)
    await shows(page, 'working', 'working · <1 min', { timeout: 5000 })
    const moving = await dot(page)
    t.equal(moving.animation, 'cc-pulse')
    await page.emulateMedia({ reducedMotion: 'reduce' })
    const still = await dot(page)
    t.equal(still.animation, 'none')
    t.equal(still.shape, moving.shape, 'still a dot in a ring')
    await post(app, 'heartbeat', { status: 'live' })
    await shows(page, 'live', 'live · <1 min')
    t.not((await dot(page)).shape, still.shape, 'and still unlike live')
  })

  t.test('offline: nothing when never seen, then when last seen, coarse, kept current by the minute', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await openPage(t, `${origin}/widget-test`, { fakeClock: true })
    await shows(page, 'offline', 'offline', { timeout: 5000 })
    await post(app, 'heartbeat')
    await post(app, 'stop')
    await shows(page, 'offline', 'offline · last seen just now')
    // Half a minute past each boundary: the page's fake clock may start a few milliseconds behind the server's.
    await page.clock.fastForward('02:00:30')
    await shows(page, 'offline', 'offline · last seen 2 h ago')
    await page.clock.fastForward('59:00')
    await shows(page, 'offline', 'offline · last seen 2 h ago')
    await page.clock.fastForward('01:00')
    await shows(page, 'offline', 'offline · last seen 3 h ago')
  })

  t.test('the activity line of the most relevant session, outside the live region', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    await post(app, 'heartbeat', { session_id: 'blog', status: 'working', activity: EDITING })
    await post(app, 'heartbeat', { session_id: 'docs', status: 'idle', activity: { model: 'Sonnet 4.5', project: 'docs' } })
    const page = await openPage(t, `${origin}/widget-test`, { fakeClock: true })
    await shows(page, 'working', 'working · <1 min · Opus 4.5 · blog · editing', { timeout: 5000 })
    t.equal(await page.getByRole('status').textContent(), 'working', 'the live region holds the status word only')

    // Counts every change to the live region from here on: the activity and the minute count change, the status does not.
    await page.locator('cc-live-status').evaluate((element) => {
      const label = element.shadowRoot!.querySelector('[part=label]')!
      new MutationObserver((changes) => { label.setAttribute('data-changes', String(Number(label.getAttribute('data-changes') ?? 0) + changes.length)) })
        .observe(label, { childList: true, characterData: true, subtree: true })
    })
    await post(app, 'heartbeat', { session_id: 'blog', status: 'working', activity: { ...EDITING, tool: 'reading' } })
    await shows(page, 'working', 'working · <1 min · Opus 4.5 · blog · reading')
    await page.clock.fastForward('01:30')
    await shows(page, 'working', 'working · 1 min · Opus 4.5 · blog · reading')
    await screenshot(page, 'working-reading')
    await post(app, 'heartbeat', { session_id: 'blog', status: 'working', activity: {} })
    await shows(page, 'working', 'working · 1 min')
    t.equal(await page.getByRole('status').getAttribute('data-changes'), null, 'nothing new to announce')

    await post(app, 'stop', { session_id: 'blog' })
    await shows(page, 'idle', 'idle · 1 min · Sonnet 4.5 · docs')
    t.equal(await page.getByRole('status').getAttribute('data-changes'), '1', 'a new status is')
  })

  t.test('hide="activity last-seen" hides those parts, also when set later', async (t) => {
    const { app, origin } = await listen(t, { page: `${ELEMENT.replace('>', ' hide="activity">')} ${ELEMENT.replace('>', ' hide="last-seen since">')} ${ELEMENT}` })
    await post(app, 'heartbeat', { status: 'working', activity: EDITING })
    const page = await openPage(t, `${origin}/widget-test`)
    await shows(page, 'working', 'working · <1 min', { timeout: 5000 })
    await shows(page, 'working', 'working · Opus 4.5 · blog · editing', { index: 1 })
    await shows(page, 'working', 'working · <1 min · Opus 4.5 · blog · editing', { index: 2 })
    await post(app, 'stop')
    await shows(page, 'offline', 'offline · last seen just now')
    await shows(page, 'offline', 'offline', { index: 1 })
    await page.locator('cc-live-status').nth(2).evaluate((element) => element.setAttribute('hide', 'last-seen'))
    await shows(page, 'offline', 'offline', { index: 2 })
  })

  t.test('the src attribute points the element at another origin', async (t) => {
    const { app, origin } = await listen(t, { page: '' })
    const elsewhere = await listen(t)
    await post(elsewhere.app, 'heartbeat')
    const page = await openPage(t, `${origin}/widget-test`)
    await page.evaluate((src) => {
      const element = document.createElement('cc-live-status')
      element.setAttribute('src', src)
      document.getElementById('shot')!.append(element)
    }, `${elsewhere.origin.replace('http', 'ws')}/ws/live`)
    await shows(page, 'live', 'live · <1 min', { timeout: 5000 })
    t.equal(elsewhere.app.viewers.size, 1)
    t.equal(app.viewers.size, 0)
  })

  t.test('the server restarts: reconnecting, never offline, then the true state by itself', async (t) => {
    const first = await listen(t, { page: ELEMENT })
    const port = Number(new URL(first.origin).port)
    const page = await openPage(t, `${first.origin}/widget-test`)
    await post(first.app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min', { timeout: 5000 })

    await first.app.close()
    await shows(page, 'reconnecting', 'reconnecting…')
    await screenshot(page, 'reconnecting')

    const second = buildApp({ env: TEST_ENV })
    t.teardown(() => second.close())
    await second.ready()
    second.liveState.heartbeat({ sessionId: 'after-restart' })
    await second.listen({ port, host: '127.0.0.1' })
    await shows(page, 'live', 'live · <1 min', { timeout: 5000 })
    const states = await page.evaluate(() => window.states)
    t.same(states.slice(states.indexOf('live')), ['live', 'reconnecting', 'live'], 'not offline at any point')
    t.equal(second.viewers.size, 1, 'back on a WebSocket')
  })

  t.test('behind a proxy that refuses WebSocket, SSE carries the state', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await openPage(t, `${await startNoWebSocketProxy(t, origin)}/widget-test`)
    await shows(page, 'offline', 'offline', { timeout: 5000 })
    await post(app, 'heartbeat', { status: 'working', activity: EDITING })
    await shows(page, 'working', 'working · <1 min · Opus 4.5 · blog · editing')
    await screenshot(page, 'working-over-sse')
    t.equal(app.sseStreams.size, 1)
    t.equal(app.viewers.size, 0)
    await post(app, 'stop')
    await shows(page, 'offline', 'offline · last seen just now')
  })

  t.test('when SSE is refused too, polling the JSON snapshot carries the state', async (t) => {
    const { app, origin } = await listen(t, { page: '<cc-live-status retry-ms="50" poll-ms="100"></cc-live-status>' })
    const page = await openPage(t, `${await startNoWebSocketProxy(t, origin, { refuseEventStream: true })}/widget-test`)
    await shows(page, 'offline', 'offline', { timeout: 5000 })
    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min')
    t.equal(app.sseStreams.size + app.viewers.size, 0)
  })

  t.test('polling follows a server restarted between two polls, though its seq starts over', async (t) => {
    // Polls a minute apart on the page's fake clock: the restart happens between two of them.
    const first = await listen(t, { page: '<cc-live-status poll-ms="60000"></cc-live-status>' })
    await post(first.app, 'heartbeat', { status: 'working' })
    await post(first.app, 'heartbeat', { status: 'waiting' })
    const page = await openPage(t, `${await startNoWebSocketProxy(t, first.origin, { refuseEventStream: true })}/widget-test`, { fakeClock: true })
    await shows(page, 'waiting', 'waiting · <1 min', { timeout: 5000 })

    await first.app.close()
    const second = await listen(t, { page: '', port: Number(new URL(first.origin).port) })
    await post(second.app, 'heartbeat')
    t.equal(second.app.liveState.snapshot.state.seq, 1, 'numbered from the start again, below the last seq the page saw')
    await page.clock.fastForward('01:00')
    // The state only: a minute on, the time live is at its minute boundary.
    await page.waitForFunction(() => document.querySelector('cc-live-status')?.getAttribute('state') === 'live', null, { timeout: 5000 })
    t.same(await page.evaluate(() => window.states), ['connecting', 'waiting', 'live'], 'no failed poll in between')
  })

  t.test('several elements and subscribe() on one page share one connection', async (t) => {
    const { app, origin } = await listen(t, { page: `${ELEMENT} ${ELEMENT} ${ELEMENT}` })
    const page = await openPage(t, `${origin}/widget-test`)
    const view = await page.evaluate(async (moduleUrl) => {
      const { subscribe } = await import(moduleUrl)
      return new Promise((resolve) => subscribe('/ws/live', (view: { status: string }) => view.status === 'offline' && resolve(view)))
    }, '/ws/live/client.js')
    t.match(view, { status: 'offline', transport: 'websocket' })
    t.equal(app.viewers.size, 1)
    await post(app, 'heartbeat')
    await page.waitForFunction(() => [...document.querySelectorAll('cc-live-status')].every((element) => element.getAttribute('state') === 'live'), null, { timeout: 1000 })
    t.equal(app.viewers.size, 1)
  })

  t.test('a page hidden for long drops its connection and reconnects when visible again', async (t) => {
    const { origin } = await listen(t, { page: '<cc-live-status hidden-ms="100"></cc-live-status>' })
    const page = await openPage(t, `${origin}/widget-test`)
    await shows(page, 'offline', 'offline', { timeout: 5000 })
    const setHidden = (hidden: boolean) => page.evaluate((hidden) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
      document.dispatchEvent(new Event('visibilitychange'))
    }, hidden)

    await setHidden(true)
    await shows(page, 'reconnecting', 'reconnecting…')
    const reconnected = page.waitForEvent('websocket')
    await setHidden(false)
    t.match((await reconnected).url(), /\/ws\/live$/)
    await shows(page, 'offline', 'offline')
  })

  t.test('the badge and the demo page, rendered', async (t) => {
    const { app, origin } = await listen(t)
    const page = await openPage(t, `${origin}/ws/live/badge.svg`)
    await page.locator('svg').screenshot({ path: join(ARTIFACTS, 'badge-offline.png') })
    await post(app, 'heartbeat')
    await page.reload()
    await page.locator('svg').screenshot({ path: join(ARTIFACTS, 'badge-live.png') })
    t.equal(await page.locator('svg').getAttribute('aria-label'), 'claude code: live')

    await post(app, 'heartbeat', { session_id: 'demo', status: 'working', activity: EDITING })
    await page.goto(`${origin}/ws/live/demo`)
    await page.waitForFunction(() => document.getElementById('view')?.textContent?.includes('"status": "working"'), null, { timeout: 5000 })
    t.equal(await page.locator('img').evaluate((image: HTMLImageElement) => image.naturalWidth > 0), true, 'the badge loads on the page')
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true })
  })
}
