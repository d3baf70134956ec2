import { STATUS_CODES } from 'node:http'

interface CataloguedError {
  readonly statusCode: number
  /** What the answer says unless the moment has something more precise to say. */
  readonly message: string
}

/**
 * Every error code the service answers, with its status and default message: cc-live's own, and
 * those of Fastify and @fastify/bearer-auth that reach clients as they are. The protocol document
 * lists the same (a test holds the two together).
 */
export const API_ERRORS = {
  CC_LIVE_BAD_REQUEST: { statusCode: 400, message: 'bad request' },
  CC_LIVE_BAD_QUERY: { statusCode: 400, message: 'a query parameter breaks its rule (the message names it)' },
  FST_ERR_BAD_URL: { statusCode: 400, message: 'the URL is not valid' },
  FST_ERR_VALIDATION: { statusCode: 400, message: 'a field breaks its rule (the message names it)' },
  FST_ERR_CTP_INVALID_JSON_BODY: { statusCode: 400, message: 'body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { statusCode: 400, message: 'Content-Length does not match the body' },
  FST_BEARER_AUTH_MISSING_AUTHORIZATION_HEADER: { statusCode: 401, message: 'missing authorization header' },
  FST_BEARER_AUTH_INVALID_AUTHORIZATION_HEADER: { statusCode: 401, message: 'invalid authorization header' },
  CC_LIVE_ORIGIN_NOT_ALLOWED: { statusCode: 403, message: 'this origin may not subscribe' },
  CC_LIVE_NOT_FOUND: { statusCode: 404, message: 'no route for this method and path' },
  CC_LIVE_HISTORY_OFF: { statusCode: 404, message: 'this server keeps no history (CC_LIVE_HISTORY=off)' },
  FST_ERR_CTP_BODY_TOO_LARGE: { statusCode: 413, message: 'body over 4 KiB' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { statusCode: 415, message: 'body is not application/json' },
  CC_LIVE_AUTH_RATE_LIMITED: { statusCode: 429, message: 'too many failed authentications from this address' },
  CC_LIVE_TOO_MANY_SESSIONS: { statusCode: 429, message: 'too many live sessions; retry when one has ended' },
  CC_LIVE_INTERNAL: { statusCode: 500, message: 'internal error' },
  CC_LIVE_TOO_MANY_VIEWERS: { statusCode: 503, message: 'too many viewers, try again later' },
  CC_LIVE_UNAVAILABLE: { statusCode: 503, message: 'the shared live state is unreachable; nothing changed, retry later' }
} as const satisfies Record<string, CataloguedError>

export type ErrorCode = keyof typeof API_ERRORS

/** The one shape every error answer has. */
export interface ErrorBody {
  statusCode: number
  code: ErrorCode
  error: string
  message: string
}

export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(API_ERRORS, code)
}

export function errorBody (code: ErrorCode, message: string = API_ERRORS[code].message): ErrorBody {
  const { statusCode } = API_ERRORS[code]
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/** A wait in ms as a Retry-After value: whole seconds, rounded up, at least one. */
export function retryAfterSeconds (waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000))
}
