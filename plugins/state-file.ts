import fp from 'fastify-plugin'
import { LiveState } from '../src/live/state.ts'
import { serializeSessions } from '../src/state-file/format.ts'
import { loadSessions, removeStaleTemporaryFiles, resolveStateFile, StateFileWriter } from '../src/state-file/io.ts'

/**
 * With CC_LIVE_STATE_FILE set, restores the sessions saved by the previous
 * process and saves them again after every mutation, so a restart during a
 * session never shows viewers a false "offline". Whatever is on disk, start-up
 * goes on: a file it cannot use is a clean start with one warning. Only for the
 * state held in this process: a state shared through Redis is kept by Redis.
 */
export default fp(async function stateFile (fastify) {
  const configured = fastify.config.CC_LIVE_STATE_FILE
  if (configured === '') return
  const store = fastify.liveState
  if (!(store instanceof LiveState)) {
    fastify.log.info({ path: configured }, 'state file not used: the live state is kept by Redis')
    return
  }
  const nowMs = fastify.clock.wallNow()
  const path = await resolveStateFile(configured)
  // Log lines name the file as configured, and where a link led if it did.
  const file = path === configured ? { path } : { path: configured, resolvedPath: path }

  const { removed, problem: cleanupProblem } = await removeStaleTemporaryFiles(path, nowMs)
  if (removed > 0) fastify.log.info({ ...file, removed }, 'removed temporary files of interrupted saves')
  if (cleanupProblem !== undefined) fastify.log.warn({ ...file, problem: cleanupProblem }, 'cannot remove temporary files of interrupted saves')

  const { record, problem } = await loadSessions(path, nowMs)
  if (problem !== undefined) fastify.log.warn({ ...file, problem }, 'state file unusable, starting with no sessions')
  if (record !== null) {
    const { state } = store.restore(record)
    fastify.log.info({ ...file, state }, 'sessions restored')
  }

  const writer = new StateFileWriter({
    path,
    contents: () => serializeSessions(store.toRecord()),
    onError: (error) => fastify.log.error({ err: error, ...file }, 'cannot save the state file')
  })
  const unsubscribe = store.onSessionsChange(() => writer.save())
  fastify.addHook('onClose', async () => {
    unsubscribe()
    await writer.flush()
  })
}, { name: 'state-file', dependencies: ['config', 'clock', 'live-state'] })
