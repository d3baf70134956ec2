/**
 * Parses a comma-separated list of web origins ("https://blog.example, http://localhost:4000")
 * into their canonical form, as browsers send them in the Origin header. An empty list means
 * any origin: null. Throws on an entry that is not a bare http(s) origin.
 */
export function parseAllowedOrigins (list: string): ReadonlySet<string> | null {
  const entries = list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  if (entries.length === 0) return null
  return new Set(entries.map(canonicalOrigin))
}

function canonicalOrigin (entry: string): string {
  const url = parseUrl(entry)
  const bare = url !== null && /^https?:$/.test(url.protocol) && url.username === '' && url.password === '' &&
    url.pathname === '/' && url.search === '' && url.hash === '' && !entry.endsWith('/')
  if (!bare) throw new Error(`"${entry}" is not an origin such as https://blog.example.com`)
  return url.origin
}

function parseUrl (text: string): URL | null {
  try {
    return new URL(text)
  } catch {
    return null
  }
}
