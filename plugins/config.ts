import fastifyEnv from '@fastify/env'
import fp from 'fastify-plugin'
import { configSchema, deriveConfig, schemaError, type Config, type EnvSettings, type SchemaViolation } from '../src/config.ts'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface ConfigOptions {
  /** Where settings come from; process.env unless a test passes its own. */
  env?: Record<string, string | undefined>
}

/**
 * Validates the environment at start-up with @fastify/env and exposes every setting, derived
 * ones included, as `fastify.config`. Any problem stops start-up with a ConfigError naming the
 * variable.
 */
export default fp<ConfigOptions>(async function config (fastify, { env = process.env }) {
  try {
    await fastify.register(fastifyEnv, { schema: configSchema, data: env, env: false })
  } catch (error) {
    const violations = (error as { errors?: SchemaViolation[] }).errors
    throw violations === undefined ? error : schemaError(violations)
  }
  // @fastify/env decorated `config` with the validated environment; add what is derived from it.
  fastify.config = deriveConfig(fastify.config as EnvSettings)
  // The logger exists before the config does; apply the validated level before any request logger is made.
  fastify.log.level = fastify.config.LOG_LEVEL
}, { name: 'config' })
