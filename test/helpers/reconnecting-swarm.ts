/**
 * Worker thread for the rolling-restart test: a crowd of viewers that reconnect like the widget
 * (test/helpers/reconnecting-viewer.ts), off the test's thread.
 *
 * workerData: { url, count, connectingAtOnce }. Posts 'connected' once every viewer has a state.
 * On { until: seq } posts a SwarmReport once every viewer is connected and has seen at least that
 * seq; on 'leave' closes them all and posts 'left'.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ReconnectingViewer } from './reconnecting-viewer.ts'

interface SwarmData { url: string, count: number, connectingAtOnce: number }
type Command = { until: number } | 'leave'

export interface SwarmReport {
  /** Viewers shown offline after they had been shown live. */
  wentOffline: number
  /** Viewers sent a seq below one they had seen (across reconnections). */
  wentBack: number
  /** Viewers sent, on one connection, a seq not above the one before. */
  repeated: number
  /** Viewers that connected more than once. */
  reconnected: number
  connections: number
  messages: number
}

const { url, count, connectingAtOnce } = workerData as SwarmData
const port = parentPort as NonNullable<typeof parentPort>
const viewers: ReconnectingViewer[] = []
for (let start = 0; start < count; start += connectingAtOnce) {
  const batch = Array.from({ length: Math.min(connectingAtOnce, count - start) }, () => new ReconnectingViewer(url))
  await Promise.all(batch.map((viewer) => viewer.when((v) => v.last !== null)))
  viewers.push(...batch)
}
port.postMessage('connected')

port.on('message', async (command: Command) => {
  if (command === 'leave') {
    for (const viewer of viewers) viewer.close()
    port.postMessage('left')
    return
  }
  await Promise.all(viewers.map((viewer) => viewer.when((v) => v.open && (v.last?.seq ?? -1) >= command.until)))
  const report: SwarmReport = {
    wentOffline: viewers.filter((viewer) => viewer.wentOffline).length,
    wentBack: viewers.filter((viewer) => viewer.wentBack > 0).length,
    repeated: viewers.filter((viewer) => viewer.repeatedOnConnection > 0).length,
    reconnected: viewers.filter((viewer) => viewer.connections > 1).length,
    connections: viewers.reduce((sum, viewer) => sum + viewer.connections, 0),
    messages: viewers.reduce((sum, viewer) => sum + viewer.received, 0)
  }
  port.postMessage(report)
})
