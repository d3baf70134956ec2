import { buildApp } from './app.ts'

/**
 * Slow clients are cut at the drain grace (HTTP_TIMEOUTS.shutdownGraceMs) and viewers that do not
 * answer the close frame within 2 s are dropped, so a shutdown that lasts this long is stuck on
 * something of ours: a real failure, exit 1.
 */
const SHUTDOWN_DEADLINE_MS = 5000

const app = buildApp({
  logger: {
    // The bearer key travels in this header; it must never reach a log line.
    redact: ['req.headers.authorization'],
    ...(process.env.NODE_ENV === 'development' && { transport: { target: 'pino-pretty' } })
  }
})

try {
  await app.ready()
  await app.listen({ port: app.config.PORT, host: app.config.HOST })
} catch (error) {
  app.log.fatal({ err: error }, 'cannot start')
  process.exit(1)
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down')
    setTimeout(() => {
      app.log.error('shutdown took too long, exiting')
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MS).unref()
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'shutdown failed')
      process.exit(1)
    })
  })
}
