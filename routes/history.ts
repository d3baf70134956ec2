import { readFile } from 'node:fs/promises'
import type { FastifyPluginAsync } from 'fastify'
import { CARD_METRICS, CARD_THEMES, cardStart, renderCard } from '../src/history/card.ts'
import { parseCount, parseRange, parseWord } from '../src/history/query.ts'
import { readReport, sessionSummary } from '../src/history/report.ts'
import { createAsset } from '../src/widget/asset.ts'
import { sendAsset, sendTagged } from './cached-reply.ts'

/** Beside the status module, in the sources and in dist/ alike (see routes/widget.ts). */
const MODULE_FILE = new URL('../client/cc-live-history.js', import.meta.url)
/** How the history module names the status module in the sources, and the URL it is served at. */
const STATUS_IMPORT = "from './cc-live-status.js'"
const SERVED_STATUS_IMPORT = "from './client.js'"
const URLS = ['/ws/live/history', '/ws/live/history.svg', '/ws/live/history.js', '/ws/live/sessions']
const JSON_TYPE = 'application/json; charset=utf-8'

type Query = Record<string, string | undefined>
/** Every parameter once at most: a repeated one (an array) is refused, naming it. */
function querySchema (...names: string[]) {
  return { querystring: { type: 'object', properties: Object.fromEntries(names.map((name) => [name, { type: 'string' }])) } }
}

/** The history, public like the snapshot: JSON, the sessions log, the heatmap card and its browser module. */
const historyRoutes: FastifyPluginAsync = async function historyRoutes (fastify) {
  const { history, liveState, config } = fastify
  if (history === null) {
    for (const url of URLS) fastify.get(url, async (_request, reply) => reply.sendError('CC_LIVE_HISTORY_OFF'))
    return
  }
  const source = (await readFile(MODULE_FILE, 'utf8'))
  if (source.split(STATUS_IMPORT).length !== 2) throw new Error(`${MODULE_FILE.pathname} must import the status module once, ${STATUS_IMPORT}`)
  const module = createAsset(Buffer.from(source.replace(STATUS_IMPORT, SERVED_STATUS_IMPORT)))

  fastify.get<{ Querystring: Query }>('/ws/live/history', { schema: querySchema('from', 'to') }, async (request, reply) => {
    const report = await readReport(history, parseRange(request.query, history.today))
    return sendTagged(request, reply, JSON.stringify(report), JSON_TYPE, 'no-cache')
  })

  fastify.get<{ Querystring: Query }>('/ws/live/sessions', { schema: querySchema('limit') }, async (request, reply) => {
    const limit = parseCount('limit', request.query.limit, { min: 1, max: 100, fallback: 20 })
    const sessions = (await history.stretches(limit)).map((stretch) => sessionSummary(stretch, config.publicFields))
    return sendTagged(request, reply, JSON.stringify({ sessions }), JSON_TYPE, 'no-cache')
  })

  fastify.get<{ Querystring: Query }>('/ws/live/history.svg', { schema: querySchema('weeks', 'metric', 'theme') }, async (request, reply) => {
    const weeks = parseCount('weeks', request.query.weeks, { min: 4, max: 53, fallback: 52 })
    const metric = parseWord('metric', request.query.metric, CARD_METRICS)
    const theme = parseWord('theme', request.query.theme, CARD_THEMES)
    const today = history.today
    const report = await readReport(history, { from: cardStart(today, weeks), to: today })
    const card = renderCard(report, { weeks, metric, theme, status: liveState.snapshot.state.status })
    // No caching but revalidation, so GitHub's image proxy asks again each time.
    return sendTagged(request, reply, card, 'image/svg+xml; charset=utf-8', 'no-cache, max-age=0')
  })

  fastify.get<{ Querystring: { v?: string } }>('/ws/live/history.js', async (request, reply) => sendAsset(request, reply, module))
}

export default historyRoutes
