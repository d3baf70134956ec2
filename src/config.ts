import { dirname, join } from 'node:path'
import { compileProxyTrust, type ProxyTrust } from './access/proxy-trust.ts'
import { parseAllowedOrigins } from './access/allowed-origins.ts'
import { checkApiKey } from './access/api-key.ts'
import { ACTIVITY_FIELDS, type ActivityField } from './live/public-state.ts'
import { parseRedisSettings, RedisSettingError, type RedisSettings } from './redis/settings.ts'
import { MAX_SAVED_SESSIONS } from './state-file/format.ts'
import { checkTimeZone } from './history/owner-calendar.ts'
import { MAX_RETENTION_DAYS } from './history/query.ts'

/** The port when PORT is unset; also what the container's health probe asks. */
export const DEFAULT_PORT = 8080

/** The settings as the environment gives them, validated by `configSchema`. */
export interface EnvSettings {
  CC_LIVE_API_KEY: string
  PORT: number
  HOST: string
  CC_LIVE_TTL_SECONDS: number
  CC_LIVE_PING_SECONDS: number
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** comma-separated proxy addresses, ranges and names; empty: trust nobody */
  CC_LIVE_TRUST_PROXY: string
  /** empty: sessions are not persisted */
  CC_LIVE_STATE_FILE: string
  CC_LIVE_MAX_VIEWERS: number
  CC_LIVE_MAX_VIEWERS_PER_IP: number
  /** viewers included, so above CC_LIVE_MAX_VIEWERS_PER_IP */
  CC_LIVE_MAX_CONNECTIONS_PER_IP: number
  /** comma-separated; empty: any origin */
  CC_LIVE_ALLOWED_ORIGINS: string
  CC_LIVE_MAX_SESSIONS: number
  /** comma-separated activity fields published; empty: none */
  CC_LIVE_PUBLIC_FIELDS: string
  /** empty: the state lives in this process */
  CC_LIVE_REDIS_URL: string
  /** empty: the URL's, if any */
  CC_LIVE_REDIS_PASSWORD: string
  CC_LIVE_REDIS_PREFIX: string
  /** IANA time zone whose days the history counts */
  CC_LIVE_TIMEZONE: string
  CC_LIVE_HISTORY: 'on' | 'off'
  CC_LIVE_HISTORY_DAYS: number
  /** empty: beside the state file, or in memory without one */
  CC_LIVE_HISTORY_FILE: string
}

/** Every setting, with what is derived from the text ones, ready to use. */
export interface Config extends EnvSettings {
  readonly ttlMs: number
  readonly pingMs: number
  /** Whose X-Forwarded-For to believe, compiled from CC_LIVE_TRUST_PROXY. */
  readonly trustsProxy: ProxyTrust
  /** Origins whose pages may subscribe; null: any. */
  readonly allowedOrigins: ReadonlySet<string> | null
  /** The activity fields the server publishes. */
  readonly publicFields: ReadonlySet<ActivityField>
  /** Where the state shared by replicas lives; null: in this process. */
  readonly redis: RedisSettings | null
  /** The owner's time zone, canonical (`utc` reads as `UTC`). */
  readonly timeZone: string
  /** Where the history is kept: a database file, `null` for memory, or `false` when it is off. */
  readonly historyFile: string | null | false
}

/** The JSON schema @fastify/env validates the environment with (coercing numbers, applying defaults). */
export const configSchema = {
  type: 'object',
  required: ['CC_LIVE_API_KEY'],
  properties: {
    CC_LIVE_API_KEY: { type: 'string', minLength: 16 },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: DEFAULT_PORT },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    CC_LIVE_TTL_SECONDS: { type: 'number', exclusiveMinimum: 0, maximum: 86400, default: 60 },
    CC_LIVE_PING_SECONDS: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 30 },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    CC_LIVE_TRUST_PROXY: { type: 'string', default: '' },
    CC_LIVE_STATE_FILE: { type: 'string', default: '' },
    CC_LIVE_MAX_VIEWERS: { type: 'integer', minimum: 1, default: 10000 },
    CC_LIVE_MAX_VIEWERS_PER_IP: { type: 'integer', minimum: 1, default: 50 },
    CC_LIVE_MAX_CONNECTIONS_PER_IP: { type: 'integer', minimum: 2, default: 100 },
    CC_LIVE_ALLOWED_ORIGINS: { type: 'string', default: '' },
    CC_LIVE_MAX_SESSIONS: { type: 'integer', minimum: 1, maximum: MAX_SAVED_SESSIONS, default: 64 },
    CC_LIVE_PUBLIC_FIELDS: { type: 'string', default: ACTIVITY_FIELDS.join(',') },
    CC_LIVE_REDIS_URL: { type: 'string', default: '' },
    CC_LIVE_REDIS_PASSWORD: { type: 'string', default: '' },
    CC_LIVE_REDIS_PREFIX: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S+$', default: 'cc-live:' },
    CC_LIVE_TIMEZONE: { type: 'string', default: 'UTC' },
    CC_LIVE_HISTORY: { type: 'string', enum: ['on', 'off'], default: 'on' },
    CC_LIVE_HISTORY_DAYS: { type: 'integer', minimum: 1, maximum: MAX_RETENTION_DAYS, default: 400 },
    CC_LIVE_HISTORY_FILE: { type: 'string', default: '' }
  }
} as const

export interface ConfigProblem {
  variable: string
  reason: string
}

/** Settings the service cannot start with: each named by its variable, always in the form `NAME: reason`. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[]

  constructor (problems: readonly ConfigProblem[]) {
    super(problems.map(({ variable, reason }) => `${variable}: ${reason}`).join('; '))
    this.problems = problems
    this.name = 'ConfigError'
  }
}

/** One schema violation as ajv reports it (the part of ajv's ErrorObject used here). */
export interface SchemaViolation {
  instancePath: string
  message?: string
  params: { missingProperty?: string }
}

/** Turns the schema validator's findings into one ConfigError naming every variable at fault. */
export function schemaError (violations: readonly SchemaViolation[]): ConfigError {
  return new ConfigError(violations.map(({ instancePath, message, params }) => params.missingProperty !== undefined
    ? { variable: params.missingProperty, reason: 'required, not set' }
    : { variable: instancePath.replace(/^\//, ''), reason: message ?? 'invalid' }))
}

/** Splits a comma-separated setting into its trimmed, non-empty entries. */
export function splitList (setting: string): string[] {
  return setting.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
}

/** Derives every setting the service uses from the validated environment; throws a ConfigError. */
export function deriveConfig (env: EnvSettings): Config {
  derived('CC_LIVE_API_KEY', () => checkApiKey(env.CC_LIVE_API_KEY))
  derived('CC_LIVE_MAX_CONNECTIONS_PER_IP', () => checkConnectionCap(env))
  return {
    ...env,
    ttlMs: env.CC_LIVE_TTL_SECONDS * 1000,
    pingMs: env.CC_LIVE_PING_SECONDS * 1000,
    trustsProxy: derived('CC_LIVE_TRUST_PROXY', () => compileProxyTrust(splitList(env.CC_LIVE_TRUST_PROXY))),
    allowedOrigins: derived('CC_LIVE_ALLOWED_ORIGINS', () => parseAllowedOrigins(splitList(env.CC_LIVE_ALLOWED_ORIGINS))),
    publicFields: derived('CC_LIVE_PUBLIC_FIELDS', () => parsePublicFields(splitList(env.CC_LIVE_PUBLIC_FIELDS))),
    redis: redisSettings(env),
    timeZone: derived('CC_LIVE_TIMEZONE', () => checkTimeZone(env.CC_LIVE_TIMEZONE)),
    historyFile: env.CC_LIVE_HISTORY === 'off' ? false : historyFileFor(env.CC_LIVE_HISTORY_FILE, env.CC_LIVE_STATE_FILE)
  }
}

function redisSettings ({ CC_LIVE_REDIS_URL: url, CC_LIVE_REDIS_PASSWORD: password, CC_LIVE_REDIS_PREFIX: prefix }: EnvSettings): RedisSettings | null {
  try {
    return parseRedisSettings(url, password, prefix)
  } catch (error) {
    if (error instanceof RedisSettingError) throw new ConfigError([{ variable: error.variable, reason: error.message }])
    throw error
  }
}

/** The history database's name beside the state file, when CC_LIVE_HISTORY_FILE does not say where. */
export const HISTORY_FILE_NAME = 'history.db'

/**
 * Where the history is kept: the file configured, else beside the state file (on the same volume in
 * the image), else in memory, as a server that keeps no state file has chosen to keep nothing on disk.
 */
function historyFileFor (configured: string, stateFile: string): string | null {
  if (configured !== '') return configured
  return stateFile === '' ? null : join(dirname(stateFile), HISTORY_FILE_NAME)
}

function parsePublicFields (entries: readonly string[]): ReadonlySet<ActivityField> {
  const unknown = entries.find((entry) => !(ACTIVITY_FIELDS as readonly string[]).includes(entry))
  if (unknown !== undefined) throw new Error(`"${unknown}" is not one of ${ACTIVITY_FIELDS.join(', ')}`)
  return new Set(entries as ActivityField[])
}

/** Every viewer holds a connection, and its address needs one more for anything else. */
function checkConnectionCap ({ CC_LIVE_MAX_CONNECTIONS_PER_IP: connections, CC_LIVE_MAX_VIEWERS_PER_IP: viewers }: EnvSettings): void {
  if (connections <= viewers) throw new RangeError(`must be greater than CC_LIVE_MAX_VIEWERS_PER_IP (${viewers}), as every viewer holds a connection; it is ${connections}`)
}

function derived<Value> (variable: string, derive: () => Value): Value {
  try {
    return derive()
  } catch (error) {
    throw new ConfigError([{ variable, reason: (error as Error).message }])
  }
}
