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

/** A short content hash: equal for equal bodies, different for any change that matters. */
export function contentVersion (body: Buffer | string): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 16)
}

export function createAsset (body: Buffer): Asset {
  const version = contentVersion(body)
  return { body, gzipped: gzipSync(body, { level: 9 }), version, etag: `"${version}"` }
}
