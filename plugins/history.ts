import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OwnerCalendar } from '../src/history/owner-calendar.ts'
import { HistoryReader } from '../src/history/reader.ts'
import { HistoryRecorder } from '../src/history/recorder.ts'
import { RedisHistoryRecording } from '../src/history/redis-recording.ts'
import { RedisHistoryStore } from '../src/history/redis-store.ts'
import type { HistoryReads } from '../src/history/report.ts'
import { openHistory } from '../src/history/sqlite-store.ts'
import type { SharedRedis } from './redis.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The owner's history as the routes read it; null with CC_LIVE_HISTORY=off. */
    history: HistoryReads | null
  }
}

/**
 * The owner's history: recorded in this process into the database it opens, or, with the state
 * shared through Redis, in Redis by whichever replica holds the recorder's lease, and read by
 * every replica from there.
 */
export default fp(async function history (fastify) {
  if (fastify.config.historyFile === false) {
    fastify.decorate('history', null)
    return
  }
  if (fastify.redis === null) await recordHere(fastify, fastify.config.historyFile)
  else recordShared(fastify, fastify.redis)
}, { name: 'history', dependencies: ['config', 'clock', 'redis', 'live-state'] })

/**
 * Records the live store's session events into the database, and closes it on shutdown after a
 * last write. Registered before the state file plugin, so that it hears the sessions that plugin
 * restores; it settles them once the app is ready. A database it cannot use never stops
 * start-up: it is moved aside and a fresh one started.
 */
async function recordHere (fastify: FastifyInstance, historyFile: string | null): Promise<void> {
  const { timeZone, CC_LIVE_HISTORY_DAYS: retentionDays } = fastify.config
  const { store, file, problem, movedTo } = openHistory(historyFile, fastify.clock.wallNow())
  if (problem !== undefined) fastify.log.warn({ path: historyFile, problem, movedTo }, movedTo === undefined ? 'history database unusable' : 'history database unusable, moved aside and started afresh')
  fastify.log.info({ path: file ?? ':memory:', timeZone, retentionDays }, 'history recorded')
  const recorder = await HistoryRecorder.open({
    store,
    calendar: new OwnerCalendar(timeZone),
    retentionDays,
    clock: fastify.clock,
    onWriteProblem: writeProblemLog(fastify, { path: file })
  })
  const stopListening = fastify.liveState.onSessionEvent((event) => recorder.record(event))
  fastify.decorate('history', recorder)
  fastify.addHook('onReady', async () => recorder.settle())
  fastify.addHook('onClose', async () => {
    stopListening()
    await recorder.close()
    await store.close()
  })
}

/**
 * Contends for the recorder's lease once the app is ready (the live store writes each step's
 * events to the log it records from); on shutdown, the recorder writes what it counted and gives
 * the lease back. Every replica reads the history from Redis.
 */
function recordShared (fastify: FastifyInstance, { client, prefix }: SharedRedis): void {
  const { timeZone, CC_LIVE_HISTORY_DAYS: retentionDays } = fastify.config
  const calendar = new OwnerCalendar(timeZone)
  const recording = new RedisHistoryRecording({
    redis: client,
    prefix,
    calendar,
    retentionDays,
    clock: fastify.clock,
    onWriteProblem: writeProblemLog(fastify, { redis: prefix }),
    onRecording: (recording) => fastify.log.info(recording ? 'recording the history: this replica holds the lease' : 'no longer recording the history'),
    onReconciled: (count) => fastify.log.warn({ count }, 'history brought in line with the live state: the log of session events lacked some')
  })
  fastify.log.info({ redis: prefix, timeZone, retentionDays }, 'history recorded in Redis by one replica at a time')
  fastify.decorate('history', new HistoryReader({ store: new RedisHistoryStore({ redis: client, prefix }), calendar, retentionDays, clock: fastify.clock }))
  fastify.addHook('onReady', async () => recording.start())
  fastify.addHook('onClose', async () => recording.close())
}

function writeProblemLog (fastify: FastifyInstance, where: Record<string, string | null>): (error: Error | null) => void {
  return (error) => {
    if (error === null) fastify.log.warn(where, 'history written again')
    else fastify.log.error({ err: error, ...where }, 'cannot write the history; keeping it in memory and trying again every second')
  }
}
