import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { TEST_ENV } from './app.ts'

/** A full garbage collection, from a test process started without --expose-gc. */
export function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}

/** What a request is made of, as WeakRefs: Fastify's request, Node's raw request, the reply, the request's logger. */
export type RequestRefs = Record<'request' | 'raw' | 'reply' | 'log', WeakRef<object>>

/** Which of a request's objects are still reachable. */
export function reachable (refs: RequestRefs): string[] {
  return Object.entries(refs).filter(([, ref]) => ref.deref() !== undefined).map(([name]) => name)
}

/**
 * A listening app that logs (so each request has a child logger) and keeps WeakRefs to what each
 * request `tracked` picks is made of: a test can then tell whether an open viewer keeps any of it.
 */
export async function appTrackingRequests (t: Test, tracked: (request: FastifyRequest) => boolean): Promise<{ app: FastifyInstance, address: string, requests: RequestRefs[] }> {
  const app = buildApp({ env: { ...TEST_ENV, LOG_LEVEL: 'info' }, logger: { level: 'info', stream: { write: () => {} } } })
  t.teardown(() => app.close())
  const requests: RequestRefs[] = []
  app.addHook('onRequest', async (request, reply) => {
    if (!tracked(request)) return
    requests.push({ request: new WeakRef(request), raw: new WeakRef(request.raw), reply: new WeakRef(reply), log: new WeakRef(request.log) })
  })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, address, requests }
}
