import { readFile } from 'node:fs/promises'
import type { FastifyPluginAsync } from 'fastify'
import type { Status } from '../src/live/public-state.ts'
import { createAsset } from '../src/widget/asset.ts'
import { renderBadge } from '../src/widget/badge.ts'
import { sendAsset } from './cached-reply.ts'
import { demoPage } from './demo-page.ts'

/** Next to this file in both layouts: client/ beside routes/ in the sources, and in dist/ after the build. */
const CLIENT_FILE = new URL('../client/cc-live-status.js', import.meta.url)

/** The badge for each status, rendered once: green while working or live, yellow waiting, blue idle, grey offline. */
const BADGE: Record<Status, string> = {
  working: renderBadge('claude code', 'working', '#4c1'),
  waiting: renderBadge('claude code', 'waiting', '#dfb317'),
  live: renderBadge('claude code', 'live', '#4c1'),
  idle: renderBadge('claude code', 'idle', '#007ec6'),
  offline: renderBadge('claude code', 'offline', '#9f9f9f')
}

/** The browser side, under /ws/live so the proxy's existing route serves it: the client module, the badge and a demo page. */
const widget: FastifyPluginAsync = async function widget (fastify) {
  const client = createAsset(await readFile(CLIENT_FILE))
  const clientUrl = `/ws/live/client.js?v=${client.version}`
  const demo = demoPage(clientUrl)

  fastify.get<{ Querystring: { v?: string } }>('/ws/live/client.js', async (request, reply) => sendAsset(request, reply, client))

  fastify.get('/ws/live/badge.svg', async (_request, reply) => reply
    .type('image/svg+xml; charset=utf-8')
    .header('cache-control', 'no-cache, max-age=0')
    .send(BADGE[fastify.liveState.snapshot.state.status]))

  fastify.get('/ws/live/demo', async (_request, reply) => reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-cache')
    .send(demo))
}

export default widget
