import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { writeSyntheticHistory } from '../../bench/synthetic-history.ts'
import { buildApp } from '../../src/app.ts'
import { AUTH, TEST_ENV } from '../helpers/app.ts'
import { chromiumMissing, launchChromium } from '../helpers/browser.ts'
import { tempDir } from '../helpers/temp-dir.ts'

/** Screenshots to look at after a run (gitignored with .tap/); one of them is docs/images/history-card.png. */
const ARTIFACTS = '.tap/artifacts/history'

if (chromiumMissing) {
  t.plan(0, chromiumMissing)
} else {
  t.setTimeout(180_000)
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  await mkdir(ARTIFACTS, { recursive: true })
  // A year of made-up history, written once through the real recorder and copied for each test.
  const seeded = join(await tempDir(t), 'history.db')
  const sessions = await writeSyntheticHistory(seeded, { days: 365 })
  t.comment(`seeded ${sessions} sessions over 365 days`)

  /** The app on the seeded history, listening, with `body` served at /history-test. */
  async function listen (t: Test, body: string): Promise<{ app: FastifyInstance, origin: string }> {
    const file = join(await tempDir(t), 'history.db')
    await copyFile(seeded, file)
    const app = buildApp({ env: { ...TEST_ENV, CC_LIVE_HISTORY_FILE: file } })
    t.teardown(() => app.close())
    app.get('/history-test', async (_request, reply) => reply.type('text/html').send(`<!doctype html><meta charset="utf-8"><title>history test</title>
<style>body { margin: 0; font: 14px/1.5 sans-serif; } #shot { display: inline-block; padding: 12px; }</style>
<script type="module" src="/ws/live/client.js"></script><div id="shot">${body}</div>`))
    return { app, origin: await app.listen({ port: 0, host: '127.0.0.1' }) }
  }

  async function openPage (t: Test, url: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const page = await browser.newPage({ colorScheme })
    t.teardown(() => page.close())
    await page.goto(url)
    return page
  }

  const heartbeat = (app: FastifyInstance, status: string) => app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'a', status } })

  t.test('the card as an <img>: drawn in light and in dark, following the reader with theme=auto', async (t) => {
    const { app, origin } = await listen(t, '<img id="card" src="/ws/live/history.svg" alt="Claude Code activity">')
    await heartbeat(app, 'working')
    for (const scheme of ['light', 'dark'] as const) {
      const page = await openPage(t, `${origin}/history-test`, scheme)
      await page.waitForFunction(() => (document.getElementById('card') as HTMLImageElement | null)?.complete === true)
      const size = await page.evaluate(() => {
        const image = document.getElementById('card') as HTMLImageElement
        return [image.naturalWidth, image.naturalHeight]
      })
      t.same(size, [735, 202], `${scheme}: the image decoded at its size`)
      // The card's own background, sampled where only it is drawn.
      const path = join(ARTIFACTS, `card-${scheme}.png`)
      const shot = await page.locator('#card').screenshot({ path })
      t.ok(shot.length > 5000, `${scheme}: ${path}`)
      const background = await page.evaluate(async () => {
        const image = document.getElementById('card') as HTMLImageElement
        const canvas = Object.assign(document.createElement('canvas'), { width: image.naturalWidth, height: image.naturalHeight })
        const context = canvas.getContext('2d') as CanvasRenderingContext2D
        context.drawImage(image, 0, 0)
        return [...context.getImageData(8, 100, 1, 1).data.slice(0, 3)]
      })
      t.same(background, scheme === 'light' ? [255, 255, 255] : [13, 17, 23], `${scheme}: the ${scheme} background`)
    }
  })

  t.test('the card opened directly: valid SVG to the browser, a title on every day', async (t) => {
    const { origin } = await listen(t, '')
    const page = await openPage(t, `${origin}/ws/live/history.svg?theme=dark&weeks=20`)
    const { errors, cells, titled } = await page.evaluate(() => ({
      errors: document.getElementsByTagName('parsererror').length,
      cells: document.querySelectorAll('rect[class^=l]').length,
      titled: [...document.querySelectorAll('rect[class^=l]')].filter((cell) => /^\d{4}-\d{2}-\d{2}: /.test(cell.querySelector('title')?.textContent ?? '')).length
    }))
    t.equal(errors, 0, 'no parse error')
    t.ok(cells > 19 * 7 && cells === titled + 5, `${titled} days with a title, and the legend's five`)
  })

  t.test('<cc-live-history>: the heatmap as HTML over the shared connection; today grows while live', async (t) => {
    const { app, origin } = await listen(t, '<script type="module" src="/ws/live/history.js"></script><cc-live-status></cc-live-status><cc-live-history weeks="26"></cc-live-history>')
    const page = await openPage(t, `${origin}/history-test`)
    await page.waitForFunction(() => (document.querySelector('cc-live-history')?.shadowRoot?.querySelectorAll('[part~=cell]').length ?? 0) > 150)
    const today = () => page.evaluate(() => document.querySelector('cc-live-history')?.shadowRoot?.querySelector('[part~=today]')?.getAttribute('title'))
    t.match(await today(), /^\d{4}-\d{2}-\d{2}: no activity$/, 'nothing yet today')
    await page.locator('#shot').screenshot({ path: join(ARTIFACTS, 'element.png') })
    await heartbeat(app, 'working')
    // Going live makes it ask the server again: today's cell shows the time counted so far.
    await page.waitForFunction(() => /: (<1|\d+) min active$/.test(document.querySelector('cc-live-history')?.shadowRoot?.querySelector('[part~=today]')?.getAttribute('title') ?? ''))
    t.pass('today\'s cell counts once the owner is live')
    t.equal(await page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/ws/live/client.js')).length), 1, 'the status module loaded once')
    t.match(await page.evaluate(() => document.querySelector('cc-live-history')?.shadowRoot?.querySelector('[part=caption]')?.textContent), /active in the last 26 weeks · streak \d+ days? · longest \d+ days?/)
    const cdp = await page.context().newCDPSession(page)
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'globalThis.ccLiveLinks.size' })
    t.equal(result.value, 1, 'one connection for both elements')
  })

  t.test('<cc-live-status show="today">: "N min today", from the history module loaded for it alone', async (t) => {
    const { app, origin } = await listen(t, '<cc-live-status show="today"></cc-live-status>')
    await heartbeat(app, 'working')
    const page = await openPage(t, `${origin}/history-test`)
    await page.waitForFunction(() => /^ · (<1|\d+) min today$/.test(document.querySelector('cc-live-status')?.shadowRoot?.querySelector('[part=today]')?.textContent ?? ''))
    t.ok(await page.evaluate(() => performance.getEntriesByType('resource').some((entry) => entry.name.endsWith('/ws/live/history.js'))), 'history.js loaded on demand')
    await page.locator('#shot').screenshot({ path: join(ARTIFACTS, 'status-today.png') })
    const plain = await openPage(t, `${origin}/history-test`.replace('history-test', 'ws/live/demo'))
    await plain.waitForFunction(() => document.querySelector('cc-live-status')?.getAttribute('state') !== 'connecting')
    t.notOk(await plain.evaluate(() => performance.getEntriesByType('resource').some((entry) => entry.name.includes('history.js'))), 'a page without show="today" never loads it')
  })
}
