/** RFC 6750's b64token: the only shape a bearer token can have in an Authorization header. */
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/

/**
 * Throws a TypeError when the configured key is one no client could ever present: the bearer
 * check trims what clients send, so a key with whitespace (a trailing newline from a key file,
 * say) never matches, and a character outside b64token is not a bearer token at all. The
 * message never repeats the key.
 */
export function checkApiKey (key: string): void {
  if (/\s/.test(key)) throw new TypeError('must not contain whitespace (a trailing newline from a file, say): clients\' keys are trimmed, so it could never match')
  if (!B64TOKEN.test(key)) throw new TypeError('must be a bearer token (RFC 6750 b64token): letters, digits and . _ ~ + / - only, then optional = padding')
}
