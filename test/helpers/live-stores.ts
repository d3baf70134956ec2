import { once } from 'node:events'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { LiveState } from '../../src/live/state.ts'
import type { LiveSessionsOptions } from '../../src/live/sessions.ts'
import type { LiveStore } from '../../src/live/store.ts'
import type { PublicState } from '../../src/live/public-state.ts'
import { redisClientOptions } from '../../src/redis/connection.ts'
import { RedisLiveStore } from '../../src/live/redis-store.ts'
import { parseRedisSettings } from '../../src/redis/settings.ts'
import { FakeClock } from './fake-clock.ts'

export type StoreOptions = Omit<LiveSessionsOptions, 'tell'>

/** A store under test with what the contract suite observes of it. */
export interface StoreHarness {
  store: LiveStore
  clock: FakeClock
  /** Every state the store told its change listeners, in order. */
  changes: PublicState[]
  /** Resolves once everything begun so far (steps, timers' steps, publications) has reached the listeners. */
  settled (): Promise<void>
  /** Moves the clock, then waits for what that set off. */
  advance (ms: number): Promise<void>
}

export type StoreFactory = (t: Test, options: StoreOptions, clock?: FakeClock) => Promise<StoreHarness>

function harness (store: LiveStore, clock: FakeClock, settled: () => Promise<void>): StoreHarness {
  const changes: PublicState[] = []
  store.onChange(({ state }) => changes.push(state))
  return {
    store,
    clock,
    changes,
    settled,
    async advance (ms) {
      clock.advance(ms)
      await settled()
    }
  }
}

export const embeddedStore: StoreFactory = async (t, options, clock = new FakeClock()) => {
  const store = new LiveState({ ...options, clock })
  t.teardown(() => store.close())
  return harness(store, clock, async () => {})
}

/** An open command connection to the server at `url`, closed when the test ends. */
export async function redisConnection (t: Test, url: string): Promise<Redis> {
  const settings = parseRedisSettings(url, '', 'unused:')
  if (settings === null) throw new Error('no url')
  const redis = new Redis(url, redisClientOptions(settings))
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  await once(redis, 'ready')
  return redis
}

let prefixes = 0

/** A key prefix no other store in this test run has used. */
export const freshPrefix = (): string => `test-${process.pid}-${++prefixes}:`

/**
 * Stores on the Redis server at `url`, moved by their fake clock, which stands for the server's
 * time as well. With a `prefix`, each call is one more replica sharing the state under it;
 * without, each call is a store of its own.
 */
export function redisStores (url: string, prefix?: string): StoreFactory {
  return async (t, options, clock = new FakeClock()) => {
    const redis = await redisConnection(t, url)
    const store = new RedisLiveStore({ ...options, redis, prefix: prefix ?? freshPrefix(), clock, sharedClock: () => clock.wallNow() })
    t.teardown(() => store.close())
    await store.open()
    return harness(store, clock, () => store.settled())
  }
}
