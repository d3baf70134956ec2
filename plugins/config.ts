import fastifyEnv from '@fastify/env'
import fp from 'fastify-plugin'
import { checkApiKey } from '../src/api-key.js'
import { compileProxyTrust, type ProxyTrust } from '../src/proxy-trust.js'

export interface Config {
  CC_LIVE_API_KEY: string
  PORT: number
  HOST: string
  CC_LIVE_TTL_SECONDS: number
  CC_LIVE_PING_SECONDS: number
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  CC_LIVE_TRUST_PROXY: string
  /** empty: sessions are not persisted */
  CC_LIVE_STATE_FILE: string
  CC_LIVE_MAX_VIEWERS: number
  CC_LIVE_MAX_VIEWERS_PER_IP: number
  CC_LIVE_MAX_CONNECTIONS_PER_IP: number
  /** comma-separated; empty: any origin */
  CC_LIVE_ALLOWED_ORIGINS: string
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    /** Whose X-Forwarded-For to believe, compiled from CC_LIVE_TRUST_PROXY. */
    trustsProxy: ProxyTrust
  }
}

export const configSchema = {
  type: 'object',
  required: ['CC_LIVE_API_KEY'],
  properties: {
    CC_LIVE_API_KEY: { type: 'string', minLength: 16 },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    CC_LIVE_TTL_SECONDS: { type: 'number', exclusiveMinimum: 0, maximum: 86400, default: 60 },
    CC_LIVE_PING_SECONDS: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 30 },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    CC_LIVE_TRUST_PROXY: { type: 'string', default: '' },
    CC_LIVE_STATE_FILE: { type: 'string', default: '' },
    CC_LIVE_MAX_VIEWERS: { type: 'integer', minimum: 1, default: 10000 },
    CC_LIVE_MAX_VIEWERS_PER_IP: { type: 'integer', minimum: 1, default: 50 },
    CC_LIVE_MAX_CONNECTIONS_PER_IP: { type: 'integer', minimum: 2, default: 100 },
    CC_LIVE_ALLOWED_ORIGINS: { type: 'string', default: '' }
  }
} as const

export interface ConfigOptions {
  /** Where settings come from; process.env unless a test passes its own. */
  env?: Record<string, string | undefined>
}

/** Validates the environment at start-up and exposes it, typed, as `fastify.config`. */
export default fp<ConfigOptions>(async function config (fastify, { env = process.env }) {
  await fastify.register(fastifyEnv, { schema: configSchema, data: env, env: false })
  try {
    checkApiKey(fastify.config.CC_LIVE_API_KEY)
  } catch (error) {
    throw new Error(`env/CC_LIVE_API_KEY ${(error as Error).message}`, { cause: error })
  }
  // The logger exists before the config does; apply the validated level before any request logger is made.
  fastify.log.level = fastify.config.LOG_LEVEL
  // Likewise Fastify takes its trustProxy at construction; buildApp hands it a function that asks this.
  try {
    fastify.decorate('trustsProxy', compileProxyTrust(fastify.config.CC_LIVE_TRUST_PROXY))
  } catch (error) {
    throw new Error(`env/CC_LIVE_TRUST_PROXY ${(error as Error).message}`, { cause: error })
  }
}, { name: 'config' })
