import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { AUTH, TEST_ENV } from '../helpers/app.js'
import { chromiumMissing, launchChromium } from '../helpers/browser.js'
import { startNoWebSocketProxy } from '../helpers/no-websocket-proxy.js'

/** Screenshots of the element in each state, to look at after a run (gitignored with .tap/). */
const ARTIFACTS = '.tap/artifacts/widget'
/** Fast retries, so a restart test takes a fraction of a second instead of the default 1 s window. */
const ELEMENT = '<cc-live-status retry-ms="50" max-retry-ms="200"></cc-live-status>'

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

  async function openPage (t: Test, url: string): Promise<Page> {
    const page = await browser.newPage()
    t.teardown(() => page.close())
    await page.goto(url)
    return page
  }

  /** Waits until the first element shows `state` with exactly `label` (dot state attribute and visible text). */
  async function shows (page: Page, state: string, label: string, timeout = 1000): Promise<void> {
    await page.waitForFunction(([state, label]) => {
      const element = document.querySelector('cc-live-status')
      const text = [...element?.shadowRoot?.querySelectorAll('[part=label], [part=since]') ?? []].map((part) => part.textContent).join('')
      return element?.getAttribute('state') === state && text === label
    }, [state, label], { timeout })
  }

  async function screenshot (page: Page, name: string): Promise<void> {
    await page.locator('#shot').screenshot({ path: join(ARTIFACTS, `${name}.png`) })
  }

  const post = (app: FastifyInstance, action: 'heartbeat' | 'stop') => app.inject({ method: 'POST', url: `/api/live/${action}`, headers: AUTH })

  t.test('offline; a heartbeat, and it says live within 1 s; stop, and offline within 1 s', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await openPage(t, `${origin}/widget-test`)
    await shows(page, 'offline', 'offline', 5000)
    await screenshot(page, 'offline')

    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min')
    await screenshot(page, 'live')
    const status = page.getByRole('status')
    t.equal(await status.textContent(), 'live', 'the state is in the live region as text')
    t.equal(await status.getAttribute('aria-live'), 'polite')

    await post(app, 'stop')
    await shows(page, 'offline', 'offline')
    t.same(await page.evaluate(() => window.states), ['connecting', 'offline', 'live', 'offline'])
  })

  t.test('the time live is counted from since and updated every minute', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await browser.newPage()
    t.teardown(() => page.close())
    await page.clock.install()
    await page.goto(`${origin}/widget-test`)
    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min', 5000)
    await page.clock.fastForward('42:00')
    await shows(page, 'live', 'live · 42 min')
    await screenshot(page, 'live-42-min')
    await page.clock.fastForward('23:00')
    await shows(page, 'live', 'live · 1 h 5 min')
  })

  t.test('the pulse stops under prefers-reduced-motion', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    await post(app, 'heartbeat')
    const page = await openPage(t, `${origin}/widget-test`)
    await shows(page, 'live', 'live · <1 min', 5000)
    const animation = () => page.locator('cc-live-status').evaluate((element) =>
      getComputedStyle(element.shadowRoot!.querySelector('[part=dot]')!).animationName)
    t.equal(await animation(), 'cc-pulse')
    await page.emulateMedia({ reducedMotion: 'reduce' })
    t.equal(await animation(), 'none')
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
    await shows(page, 'live', 'live · <1 min', 5000)
    t.equal(elsewhere.app.viewers.size, 1)
    t.equal(app.viewers.size, 0)
  })

  t.test('the server restarts: reconnecting, never offline, then the true state by itself', async (t) => {
    const first = await listen(t, { page: ELEMENT })
    const port = Number(new URL(first.origin).port)
    const page = await openPage(t, `${first.origin}/widget-test`)
    await post(first.app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min', 5000)

    await first.app.close()
    await shows(page, 'reconnecting', 'reconnecting…')
    await screenshot(page, 'reconnecting')

    const second = buildApp({ env: TEST_ENV })
    t.teardown(() => second.close())
    await second.ready()
    second.liveState.heartbeat({ sessionId: 'after-restart' })
    await second.listen({ port, host: '127.0.0.1' })
    await shows(page, 'live', 'live · <1 min', 5000)
    const states = await page.evaluate(() => window.states)
    t.same(states.slice(states.indexOf('live')), ['live', 'reconnecting', 'live'], 'not offline at any point')
    t.equal(second.viewers.size, 1, 'back on a WebSocket')
  })

  t.test('behind a proxy that refuses WebSocket, SSE carries the state', async (t) => {
    const { app, origin } = await listen(t, { page: ELEMENT })
    const page = await openPage(t, `${await startNoWebSocketProxy(t, origin)}/widget-test`)
    await shows(page, 'offline', 'offline', 5000)
    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min')
    await screenshot(page, 'live-over-sse')
    t.equal(app.sseStreams.size, 1)
    t.equal(app.viewers.size, 0)
    await post(app, 'stop')
    await shows(page, 'offline', 'offline')
  })

  t.test('when SSE is refused too, polling the JSON snapshot carries the state', async (t) => {
    const { app, origin } = await listen(t, { page: '<cc-live-status retry-ms="50" poll-ms="100"></cc-live-status>' })
    const page = await openPage(t, `${await startNoWebSocketProxy(t, origin, { refuseEventStream: true })}/widget-test`)
    await shows(page, 'offline', 'offline', 5000)
    await post(app, 'heartbeat')
    await shows(page, 'live', 'live · <1 min')
    t.equal(app.sseStreams.size + app.viewers.size, 0)
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
    await shows(page, 'offline', 'offline', 5000)
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

    await page.goto(`${origin}/ws/live/demo`)
    await page.waitForFunction(() => document.getElementById('view')?.textContent?.includes('"status": "live"'), null, { timeout: 5000 })
    t.equal(await page.locator('img').evaluate((image: HTMLImageElement) => image.naturalWidth > 0), true, 'the badge loads on the page')
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true })
  })
}
