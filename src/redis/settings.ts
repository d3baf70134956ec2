/** Where the state shared by replicas lives, from CC_LIVE_REDIS_URL and its companions. */
export interface RedisSettings {
  /** `redis://` or `rediss://` (TLS); may carry a password, so it is never logged or echoed. */
  readonly url: string
  /** From CC_LIVE_REDIS_PASSWORD when the URL has none. */
  readonly password: string | undefined
  /** Put before every key and channel, so several deployments can share one server. */
  readonly prefix: string
  /** What log lines may say about the server: scheme, host and port, never credentials. */
  readonly endpoint: string
}

const SCHEMES = new Set(['redis:', 'rediss:'])

/**
 * Checks the Redis settings; null when CC_LIVE_REDIS_URL is empty (one process, embedded state).
 * Errors say what is wrong without repeating the URL, which may hold a password.
 */
export function parseRedisSettings (url: string, password: string, prefix: string): RedisSettings | null {
  if (url === '') {
    if (password !== '') throw new RedisSettingError('CC_LIVE_REDIS_PASSWORD', 'is set but CC_LIVE_REDIS_URL is not')
    return null
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new RedisSettingError('CC_LIVE_REDIS_URL', 'is not a URL (redis://host:6379 or rediss://host:6380)')
  }
  if (!SCHEMES.has(parsed.protocol)) throw new RedisSettingError('CC_LIVE_REDIS_URL', 'must start with redis:// or rediss:// (TLS)')
  if (parsed.hostname === '') throw new RedisSettingError('CC_LIVE_REDIS_URL', 'has no host')
  if (parsed.pathname !== '' && parsed.pathname !== '/' && !/^\/\d+$/.test(parsed.pathname)) {
    throw new RedisSettingError('CC_LIVE_REDIS_URL', 'path must be a database number (/0) or nothing')
  }
  if (parsed.password !== '' && password !== '') {
    throw new RedisSettingError('CC_LIVE_REDIS_PASSWORD', 'is set and CC_LIVE_REDIS_URL has a password too: give it in one place')
  }
  const endpoint = `${parsed.protocol}//${parsed.host}`
  return { url, password: password === '' ? undefined : password, prefix, endpoint }
}

/** A Redis setting at fault, named, with a reason that repeats no part of its value. */
export class RedisSettingError extends Error {
  readonly variable: string

  constructor (variable: string, reason: string) {
    super(reason)
    this.variable = variable
    this.name = 'RedisSettingError'
  }
}
