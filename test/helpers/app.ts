import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type AppOptions } from '../../src/app.ts'

export const TEST_KEY = 'test-key-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${TEST_KEY}` }

export const TEST_ENV = {
  CC_LIVE_API_KEY: TEST_KEY,
  CC_LIVE_TTL_SECONDS: '60',
  CC_LIVE_PING_SECONDS: '30',
  LOG_LEVEL: 'silent'
}

/** A ready app with test settings, closed when the test ends. */
export async function buildTestApp (t: Test, { env, ...options }: AppOptions = {}): Promise<FastifyInstance> {
  const app = buildApp({ ...options, env: { ...TEST_ENV, ...env } })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** A test app listening on a random loopback port, for real sockets. */
export async function buildListeningTestApp (t: Test, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = await buildTestApp(t, options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}
