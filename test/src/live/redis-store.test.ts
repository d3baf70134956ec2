import t, { type Test } from 'tap'
import { ACTIVITY_FIELDS, type PublicState } from '../../../src/live/public-state.ts'
import { RedisLiveStore } from '../../../src/live/redis-store.ts'
import { StoreUnavailableError, type SessionEvent } from '../../../src/live/store.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'
import { freshPrefix, redisConnection, redisStores, type StoreHarness } from '../../helpers/live-stores.ts'
import { redisMissing, startRedisServer, type RedisServer } from '../../helpers/redis-server.ts'
import { IS_OFFLINE } from '../../helpers/states.ts'

// What only a shared store does: several replicas, one state; the server going away and coming back.

const TTL = 60_000
const OPTIONS = { ttlMs: TTL, maxSessions: 64, publicFields: new Set(ACTIVITY_FIELDS) }

if (redisMissing) {
  t.plan(0, redisMissing)
} else {
  const server = await startRedisServer(t)

  /** `count` replicas sharing one state and one fake clock. */
  async function replicas (t: Test, count: number, url = server.url): Promise<StoreHarness[]> {
    const clock = new FakeClock()
    const join = redisStores(url, freshPrefix())
    const all: StoreHarness[] = []
    for (let index = 0; index < count; index++) all.push(await join(t, OPTIONS, clock))
    return all
  }

  /** Every message published on a prefix's channel, as a raw subscriber sees it. */
  async function publications (t: Test, prefix: string, url = server.url): Promise<string[]> {
    const subscriber = await redisConnection(t, url)
    const seen: string[] = []
    subscriber.on('message', (_channel: string, message: string) => seen.push(message))
    await subscriber.subscribe(`${prefix}changes`)
    return seen
  }

  const settleAll = async (stores: StoreHarness[]) => { for (const { settled } of stores) await settled() }
  const untilAvailable = async (store: RedisLiveStore, available: boolean) => {
    if (store.available === available) return
    await new Promise<void>((resolve) => {
      const stop = store.onAvailabilityChange((now) => {
        if (now !== available) return
        stop()
        resolve()
      })
    })
  }

  t.test('a heartbeat through one replica reaches every replica\'s listeners exactly once', async (t) => {
    const [a, b, c] = await replicas(t, 3) as [StoreHarness, StoreHarness, StoreHarness]
    const { snapshot } = await a.store.heartbeat({ sessionId: 'x', status: 'working' })
    await settleAll([a, b, c])
    for (const [name, replica] of [['A', a], ['B', b], ['C', c]] as const) {
      t.same(replica.changes, [snapshot?.state], `replica ${name} told it once`)
      t.equal(replica.store.snapshot.json, snapshot?.json, `replica ${name} has the same bytes for its viewers`)
    }
  })

  t.test('concurrent changes through every replica: one history, the same on each, seq strictly increasing', async (t) => {
    const stores = await replicas(t, 3)
    const statuses = ['working', 'waiting', 'idle', 'live'] as const
    const operations = Array.from({ length: 90 }, (_, index) => {
      const { store } = stores[index % 3] as StoreHarness
      const sessionId = `s${index % 5}`
      return index % 7 === 6 ? store.stop(sessionId) : store.heartbeat({ sessionId, status: statuses[index % 4] })
    })
    await Promise.all(operations)
    await settleAll(stores)
    const [first] = stores as [StoreHarness]
    const seqs = first.changes.map(({ seq }) => seq)
    t.same(seqs, Array.from({ length: seqs.length }, (_, index) => index + 1), 'every seq once, in order, no gap')
    for (const { changes, store } of stores) {
      t.same(changes, first.changes, 'each replica told the same changes')
      t.equal(store.snapshot.json, first.store.snapshot.json)
    }
  })

  t.test('expiry with three replicas: every timer fires, one change is published, its end told once', async (t) => {
    const prefix = freshPrefix()
    const seen = await publications(t, prefix)
    const clock = new FakeClock()
    const join = redisStores(server.url, prefix)
    const stores = [await join(t, OPTIONS, clock), await join(t, OPTIONS, clock), await join(t, OPTIONS, clock)]
    const events: SessionEvent[] = []
    for (const { store } of stores) store.onSessionEvent((event) => events.push(event))
    await stores[1]?.store.heartbeat({ sessionId: 'x' })
    await settleAll(stores)
    t.same(clock.armed.length, 3, 'each replica armed its timer')
    clock.advance(TTL)
    await settleAll(stores)
    t.equal(seen.length, 2, 'published: live, then offline once')
    for (const { changes } of stores) t.match(changes, [{ seq: 1, active: true }, { ...IS_OFFLINE, seq: 2 }])
    t.same(events.map(({ type }) => type), ['start', 'end'], 'start and end each told by one replica')
  })

  t.test('a replica started later gets the current state first', async (t) => {
    const prefix = freshPrefix()
    const clock = new FakeClock()
    const join = redisStores(server.url, prefix)
    const first = await join(t, OPTIONS, clock)
    await first.store.heartbeat({ sessionId: 'x', status: 'waiting' })
    const later = await join(t, OPTIONS, clock)
    t.equal(later.store.snapshot.json, first.store.snapshot.json)
    t.same(later.changes, [], 'and tells nothing it has not seen change')
  })

  t.test('prefixes keep deployments apart on one server', async (t) => {
    const [mine] = await replicas(t, 1) as [StoreHarness]
    const [theirs] = await replicas(t, 1) as [StoreHarness]
    await mine.store.heartbeat({ sessionId: 'x' })
    await theirs.settled()
    t.equal(theirs.store.snapshot.state.active, false)
  })

  t.test('deadlines run on the server\'s time: a replica whose own clock steps back an hour extends nothing', async (t) => {
    const redis = await redisConnection(t, server.url)
    const clock = new FakeClock(Date.now())
    const prefix = freshPrefix()
    const store = new RedisLiveStore({ ...OPTIONS, maxSessions: 1, redis, prefix, clock })
    t.teardown(() => store.close())
    await store.open()
    clock.stepWall(-3_600_000)
    await store.heartbeat({ sessionId: 'x' })
    const [seconds] = await redis.time()
    const { record } = JSON.parse(await redis.hget(`${prefix}state`, 'record') ?? '{}') as { record: { sessions: Array<{ expiresAtMs: number }> } }
    const expiresAtMs = record.sessions[0]?.expiresAtMs ?? 0
    t.ok(Math.abs(expiresAtMs - (Number(seconds) * 1000 + TTL)) < 5000, 'expires ttl after the server\'s now')
    const refused = await store.heartbeat({ sessionId: 'y' })
    t.ok((refused.retryAfterMs ?? Infinity) <= TTL, 'Retry-After is no longer than ttl')
  })

  t.test('the server killed and restarted empty', async (t) => {
    let own: RedisServer | undefined
    t.before(async () => { own = await startRedisServer(t) })

    t.test('mutations fail as unavailable and nothing false is told; the state is held and the next heartbeat takes over, keeping since', async (t) => {
      const redis = own as RedisServer
      const clock = new FakeClock()
      const prefix = freshPrefix()
      const join = redisStores(redis.url, prefix)
      const [a, b] = [await join(t, OPTIONS, clock), await join(t, OPTIONS, clock)] as [StoreHarness, StoreHarness]
      const store = a.store as RedisLiveStore
      await a.store.heartbeat({ sessionId: 'x', status: 'working' })
      await settleAll([a, b])
      const live = a.store.snapshot
      const availability: boolean[] = []
      store.onAvailabilityChange((available) => availability.push(available))

      await redis.kill()
      await untilAvailable(store, false)
      await t.rejects(a.store.heartbeat({ sessionId: 'x' }), StoreUnavailableError)
      await t.rejects(b.store.stop(), StoreUnavailableError)
      await redis.restart()
      await untilAvailable(store, true)
      await untilAvailable(b.store as RedisLiveStore, true)
      await settleAll([a, b])
      t.same(availability, [false, true], 'one change each way')
      for (const { changes, store } of [a, b]) {
        t.equal(changes.length, 1, 'nothing told while the data was gone')
        t.equal(store.snapshot.json, live.json)
      }

      clock.advance(10_000)
      const { snapshot } = await b.store.heartbeat({ sessionId: 'x', status: 'working' })
      await settleAll([a, b])
      t.match(snapshot?.state, { seq: live.state.seq + 1, active: true, since: live.state.since, sessions: 1 }, 'the seq goes on; the live period too')
      for (const { changes } of [a, b]) t.same(changes.at(-1), snapshot?.state)
    })

    t.test('without a heartbeat, the held state goes offline one ttl after it was found lost, once', async (t) => {
      const redis = own as RedisServer
      const prefix = freshPrefix()
      const clock = new FakeClock()
      const join = redisStores(redis.url, prefix)
      const [a, b] = [await join(t, OPTIONS, clock), await join(t, OPTIONS, clock)] as [StoreHarness, StoreHarness]
      await a.store.heartbeat({ sessionId: 'x' })
      await settleAll([a, b])
      await redis.kill()
      await untilAvailable(a.store as RedisLiveStore, false)
      await redis.restart()
      await untilAvailable(a.store as RedisLiveStore, true)
      await untilAvailable(b.store as RedisLiveStore, true)
      const seen = await publications(t, prefix, redis.url)
      await settleAll([a, b])
      clock.advance(TTL)
      await settleAll([a, b])
      t.equal(seen.length, 1, 'one publication')
      for (const { changes } of [a, b]) t.match(changes, [{ seq: 1, active: true }, { ...IS_OFFLINE, seq: 2 }])
    })
  })

  t.test('the data lost, and a replica that knew less started it again: no viewer\'s seq goes back, nobody is shown offline twice', async (t) => {
    const prefix = freshPrefix()
    const clock = new FakeClock()
    const join = redisStores(server.url, prefix)
    const old = await join(t, OPTIONS, clock)
    await old.store.heartbeat({ sessionId: 'x' })
    await old.store.heartbeat({ sessionId: 'x', status: 'working' })
    await old.settled()
    const shown = old.store.snapshot.state
    const raw = await redisConnection(t, server.url)

    await raw.del(`${prefix}state`)
    const fresh = await join(t, OPTIONS, clock)
    t.equal(fresh.store.snapshot.state.seq, 0, 'the newcomer knows nothing better')
    const { snapshot } = await fresh.store.heartbeat({ sessionId: 'x', status: 'waiting' })
    t.equal(snapshot?.state.seq, 1, 'its first change starts the seq again')
    await old.settled()
    await fresh.settled()
    await old.settled()
    const repaired = old.changes.at(-1)
    t.match(repaired, { seq: shown.seq + 1, active: true, status: 'waiting' }, 'the old replica publishes it above what its viewers have')
    t.same(fresh.changes.map(({ seq }) => seq), [1, shown.seq + 1], 'and the newcomer follows')
    t.ok(old.changes.every(({ active }) => active), 'the old replica\'s viewers never saw offline')

    const before = old.store.snapshot.state
    await raw.del(`${prefix}state`)
    const third = await join(t, OPTIONS, clock)
    t.match(third.store.snapshot.state, { seq: 0, active: false }, 'a newcomer on the empty server: offline, seq 0')
    const { snapshot: next } = await old.store.heartbeat({ sessionId: 'x', status: 'waiting' })
    t.match(next?.state, { seq: before.seq + 1, active: true, since: before.since }, 'the old replica goes on from what it showed, in the same live period')
    await third.settled()
    t.same(third.changes.at(-1), next?.state, 'and the newcomer follows')
  })

  t.test('a server that stops answering (SIGSTOP): mutations fail within the command timeout, and all is well after SIGCONT', async (t) => {
    const own = await startRedisServer(t)
    const [a] = await replicas(t, 1, own.url) as [StoreHarness]
    const store = a.store as RedisLiveStore
    await a.store.heartbeat({ sessionId: 'x' })
    await a.settled()
    own.pause()
    t.teardown(() => own.resume())
    await t.rejects(a.store.heartbeat({ sessionId: 'x', status: 'working' }), StoreUnavailableError)
    await untilAvailable(store, false)
    own.resume()
    await untilAvailable(store, true)
    const { snapshot } = await a.store.heartbeat({ sessionId: 'x', status: 'waiting' })
    t.equal(snapshot?.state.status, 'waiting')
    await a.settled()
    t.ok(a.changes.every((state: PublicState) => state.active), 'never told offline')
  })

  t.test('open() fails when the server is gone', async (t) => {
    const own = await startRedisServer(t)
    const redis = await redisConnection(t, own.url)
    const closed = new Promise((resolve) => redis.once('close', resolve))
    await own.kill()
    await closed
    const store = new RedisLiveStore({ ...OPTIONS, redis, prefix: freshPrefix() })
    t.teardown(() => store.close())
    await t.rejects(store.open())
  })
}
