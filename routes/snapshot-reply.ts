import type { FastifyReply } from 'fastify'
import type { Snapshot } from '../src/live/public-state.ts'

/** Sends the snapshot's ready-made JSON instead of serializing the state again. */
export function sendSnapshot (reply: FastifyReply, snapshot: Snapshot): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(snapshot.json)
}
