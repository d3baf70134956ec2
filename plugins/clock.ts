import fp from 'fastify-plugin'
import { systemClock, type Clock } from '../src/clock.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one time source of the service; tests pass a fake one to buildApp. */
    clock: Clock
  }
}

export interface ClockOptions {
  clock?: Clock
}

export default fp<ClockOptions>(async function clock (fastify, { clock = systemClock }) {
  fastify.decorate('clock', clock)
}, { name: 'clock' })
