/**
 * The container's health probe: exit 0 when this container's /healthz answers 2xx, 1 otherwise.
 * It needs nothing but node, which the slim image has (it lacks curl and wget), and it reads only
 * PORT: it runs every 30 s, so it loads no settings machinery.
 */
import { DEFAULT_PORT } from './config.ts'

const PROBE_TIMEOUT_MS = 2000

const port = process.env.PORT ?? DEFAULT_PORT
try {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
  process.exitCode = response.ok ? 0 : 1
} catch {
  process.exitCode = 1
}
