import type { FastifyReply, FastifyRequest } from 'fastify'
import { contentVersion, type Asset } from '../src/widget/asset.ts'

const IMMUTABLE = 'public, max-age=31536000, immutable'

/** Whether the client already holds the body with this ETag. */
function holds (request: FastifyRequest, etag: string): boolean {
  return request.headers['if-none-match']?.includes(etag) ?? false
}

/**
 * A public answer any site may fetch, with an ETag from its content: 304 without a body when the
 * client holds it already.
 */
export function sendTagged (request: FastifyRequest, reply: FastifyReply, body: string, type: string, cacheControl: string): FastifyReply {
  const etag = `"${contentVersion(body)}"`
  reply.type(type).header('access-control-allow-origin', '*').header('cache-control', cacheControl).header('etag', etag)
  return holds(request, etag) ? reply.code(304).send() : reply.send(body)
}

/**
 * A browser module any site may import (module scripts are fetched with CORS), gzipped when the
 * client takes it. The plain URL is always revalidated by ETag; the versioned one (`?v=<version>`)
 * never changes, so browsers may keep it for a year.
 */
export function sendAsset (request: FastifyRequest<{ Querystring: { v?: string } }>, reply: FastifyReply, asset: Asset): FastifyReply {
  reply
    .type('text/javascript; charset=utf-8')
    .header('access-control-allow-origin', '*')
    .header('cache-control', request.query.v === asset.version ? IMMUTABLE : 'no-cache')
    .header('etag', asset.etag)
    .header('vary', 'accept-encoding')
  if (holds(request, asset.etag)) return reply.code(304).send()
  if (!/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.send(asset.body)
  return reply.header('content-encoding', 'gzip').send(asset.gzipped)
}
