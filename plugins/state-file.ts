import fp from 'fastify-plugin'
import { loadSessions, serializeSessions, StateFileWriter } from '../src/state-file.js'

/**
 * With CC_LIVE_STATE_FILE set, restores the sessions saved by the previous
 * process and saves them again after every mutation, so a restart during a
 * session never shows viewers a false "offline".
 */
export default fp(async function stateFile (fastify) {
  const path = fastify.config.CC_LIVE_STATE_FILE
  if (path === '') return
  const store = fastify.liveState

  const { record, problem } = await loadSessions(path)
  if (problem !== undefined) fastify.log.warn({ path, problem }, 'state file unusable, starting with no sessions')
  if (record !== null) {
    const { state } = store.restore(record)
    fastify.log.info({ path, state }, 'sessions restored')
  }

  const writer = new StateFileWriter({
    path,
    contents: () => serializeSessions(store.toRecord()),
    onError: (error) => fastify.log.error({ err: error, path }, 'cannot save the state file')
  })
  const unsubscribe = store.onSessionsChange(() => writer.save())
  fastify.addHook('onClose', async () => {
    unsubscribe()
    await writer.flush()
  })
}, { name: 'state-file', dependencies: ['config', 'live-state'] })
