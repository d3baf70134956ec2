import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'

/** A file served as is, prepared once at start-up: its gzip form and a content hash for caching. */
export interface Asset {
  readonly body: Buffer
  readonly gzipped: Buffer
  /** Content hash: the `v` of versioned URLs, and the ETag. */
  readonly version: string
  readonly etag: string
}

export function createAsset (body: Buffer): Asset {
  const version = createHash('sha256').update(body).digest('base64url').slice(0, 16)
  return { body, gzipped: gzipSync(body, { level: 9 }), version, etag: `"${version}"` }
}
