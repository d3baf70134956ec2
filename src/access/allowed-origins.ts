/**
 * The canonical form of web origins ("https://blog.example", "http://localhost:4000"), as browsers
 * send them in the Origin header. No entries means any origin: null. Throws on an entry that is
 * not a bare http(s) origin.
 */
export function parseAllowedOrigins (entries: readonly string[]): ReadonlySet<string> | null {
  if (entries.length === 0) return null
  return new Set(entries.map(canonicalOrigin))
}

function canonicalOrigin (entry: string): string {
  const url = URL.parse(entry)
  const bare = url !== null && /^https?:$/.test(url.protocol) && url.username === '' && url.password === '' &&
    url.pathname === '/' && url.search === '' && url.hash === '' && !entry.endsWith('/')
  if (!bare) throw new Error(`"${entry}" is not an origin such as https://blog.example.com`)
  return url.origin
}
