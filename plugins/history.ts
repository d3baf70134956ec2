import fp from 'fastify-plugin'
import { HistoryRecorder } from '../src/history-recorder.js'
import { OwnerCalendar } from '../src/owner-calendar.js'
import { openHistory } from '../src/sqlite-history-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The owner's history; null with CC_LIVE_HISTORY=off. */
    history: HistoryRecorder | null
  }
}

/**
 * Records the history from the live store's session events into the database it opens, and
 * closes it on shutdown after a last write. Registered before the state file plugin, so that it
 * hears the sessions that plugin restores; it settles them once the app is ready. A database it
 * cannot use never stops start-up: it is moved aside and a fresh one started.
 */
export default fp(async function history (fastify) {
  const { historyFile, timeZone, CC_LIVE_HISTORY_DAYS: retentionDays } = fastify.config
  // Each replica hears only the session events it caused: a history of its own would be a wrong
  // part of the owner's. Until the history is shared through Redis too, replicas keep none.
  if (historyFile !== false && fastify.redis !== null) fastify.log.warn('history not recorded: replicas on Redis do not share it yet; its routes answer 404')
  if (historyFile === false || fastify.redis !== null) {
    fastify.decorate('history', null)
    return
  }
  const { store, file, problem, movedTo } = openHistory(historyFile, fastify.clock.wallNow())
  if (problem !== undefined) fastify.log.warn({ path: historyFile, problem, movedTo }, movedTo === undefined ? 'history database unusable' : 'history database unusable, moved aside and started afresh')
  fastify.log.info({ path: file ?? ':memory:', timeZone, retentionDays }, 'history recorded')
  const recorder = await HistoryRecorder.open({
    store,
    calendar: new OwnerCalendar(timeZone),
    retentionDays,
    clock: fastify.clock,
    onWriteProblem: (error) => {
      if (error === null) fastify.log.warn({ path: file }, 'history written again')
      else fastify.log.error({ err: error, path: file }, 'cannot write the history; keeping it in memory and trying again every second')
    }
  })
  const stopListening = fastify.liveState.onSessionEvent((event) => recorder.record(event))
  fastify.decorate('history', recorder)
  fastify.addHook('onReady', async () => recorder.settle())
  fastify.addHook('onClose', async () => {
    stopListening()
    await recorder.close()
    await store.close()
  })
}, { name: 'history', dependencies: ['config', 'clock', 'redis', 'live-state'] })
