import fc from 'fast-check'
import t from 'tap'
import { TOOL_VERBS } from '../../../src/live/heartbeat-schema.ts'
import { ACTIVITY_FIELDS, SESSION_STATUSES } from '../../../src/live/public-state.ts'
import { DEFAULT_SESSION, type SessionRecord, type StoreRecord } from '../../../src/live/sessions.ts'
import { LiveState } from '../../../src/live/state.ts'
import { MAX_SAVED_SESSIONS, parseSessions, serializeSessions } from '../../../src/state-file/format.ts'
import { MAX_TIME_DISTANCE_MS } from '../../../src/state-file/readers.ts'
import { FakeClock } from '../../helpers/fake-clock.ts'

const NOW = Date.parse('2026-01-01T00:00:00.000Z')
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/
const RECORD: StoreRecord = {
  seq: 12,
  sinceMs: NOW,
  lastSeenMs: NOW - 3_600_000,
  sessions: [
    { id: DEFAULT_SESSION, expiresAtMs: NOW + 50_000, status: 'live', statusSinceMs: NOW, activity: {} },
    { id: 'laptop:4242', expiresAtMs: NOW + 60_000, status: 'working', statusSinceMs: NOW + 5000, activity: { model: 'Opus 4.5', project: 'blog', tool: 'editing' } }
  ]
}
const EMPTY: StoreRecord = { seq: 0, sinceMs: null, lastSeenMs: null, sessions: [] }

/** Restores a record into a fresh store whose wall clock reads nowMs; throws whatever restoring throws. */
function restore (record: StoreRecord, nowMs = NOW) {
  const store = new LiveState({ ttlMs: 60_000, maxSessions: 64, publicFields: new Set(ACTIVITY_FIELDS), clock: new FakeClock(nowMs) })
  try {
    return store.restore(record).state
  } finally {
    store.close()
  }
}

/** A record's values are within what the service writes: ids in the alphabet, times near now. */
function withinRange ({ seq, sinceMs, lastSeenMs, sessions }: StoreRecord, nowMs = NOW): boolean {
  const near = (time: number | null) => time === null || Math.abs(time - nowMs) <= MAX_TIME_DISTANCE_MS
  return Number.isSafeInteger(seq) && seq >= 0 && near(sinceMs) && near(lastSeenMs) && sessions.length <= MAX_SAVED_SESSIONS &&
    sessions.every(({ id, expiresAtMs, statusSinceMs, status }) =>
      (id === DEFAULT_SESSION || SESSION_ID.test(id)) && near(expiresAtMs) && near(statusSinceMs) && SESSION_STATUSES.includes(status))
}

const sessionIds = fc.oneof(fc.stringMatching(SESSION_ID), fc.constant(DEFAULT_SESSION))
const times = fc.integer({ min: NOW - MAX_TIME_DISTANCE_MS, max: NOW + MAX_TIME_DISTANCE_MS })
const publicName = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9 .·-]{0,46}[a-zA-Z0-9]$/)
const session: fc.Arbitrary<SessionRecord> = fc.record({
  id: sessionIds,
  expiresAtMs: times,
  status: fc.constantFrom(...SESSION_STATUSES),
  statusSinceMs: times,
  activity: fc.record({ model: publicName, project: publicName, tool: fc.constantFrom(...TOOL_VERBS) }, { requiredKeys: [] })
})
const storeRecord: fc.Arbitrary<StoreRecord> = fc.record({
  seq: fc.nat(),
  sinceMs: fc.option(times),
  lastSeenMs: fc.option(times),
  sessions: fc.array(session, { maxLength: 5 })
}).filter(({ sinceMs, sessions }) => sinceMs !== null || sessions.length === 0)

t.test('a record survives serialization unchanged', async (t) => {
  t.same(parseSessions(serializeSessions(RECORD), NOW), RECORD)
  t.same(parseSessions(serializeSessions(EMPTY), NOW), EMPTY)
})

t.test('any record round-trips', async (t) => {
  fc.assert(fc.property(storeRecord, (value) => {
    t.same(parseSessions(serializeSessions(value), NOW), value)
  }))
})

t.test('a version 1 file (before statuses) is read as sessions that report no status', async (t) => {
  const text = JSON.stringify({ version: 1, sinceMs: NOW, expiries: [['laptop', NOW + 60_000], [DEFAULT_SESSION, NOW + 50_000]] })
  t.same(parseSessions(text, NOW), {
    seq: 0,
    sinceMs: NOW,
    lastSeenMs: null,
    sessions: [
      { id: 'laptop', expiresAtMs: NOW + 60_000, status: 'live', statusSinceMs: NOW, activity: {} },
      { id: DEFAULT_SESSION, expiresAtMs: NOW + 50_000, status: 'live', statusSinceMs: NOW, activity: {} }
    ]
  })
})

t.test('anything but a well-formed record is refused, saying where', async (t) => {
  const good = { version: 2, seq: 1, sinceMs: NOW, lastSeenMs: null, sessions: [] }
  const one = { id: 'a', expiresAtMs: NOW, status: 'idle', statusSinceMs: NOW, activity: {} }
  const v2 = (change: object) => JSON.stringify({ ...good, ...change })
  const withSession = (change: object) => v2({ sessions: [{ ...one, ...change }] })
  const v1 = (since: string, expiries: string) => `{"version":1,"sinceMs":${since},"expiries":${expiries}}`
  const cases: Array<[string, string, string | RegExp]> = [
    ['empty', '', /JSON/],
    ['truncated', serializeSessions(RECORD).slice(0, 30), /JSON/],
    ['not JSON', 'hello', /JSON/],
    ['an array', '[]', 'the file is not an object'],
    ['another version', v2({ version: 3 }), 'not a version 1 or 2 state file'],
    ['a negative seq', v2({ seq: -1 }), /^seq is not a count/],
    ['a fractional seq', v2({ seq: 1.5 }), /^seq is not a count/],
    ['since a string', v2({ sinceMs: 'yesterday' }), /^sinceMs is not a time/],
    ['since before any Date', v2({ sinceMs: -1e300 }), 'sinceMs is not a time within ten years of now'],
    ['since in 1970', v2({ sinceMs: 0 }), 'sinceMs is not a time within ten years of now'],
    ['lastSeen after any Date', v2({ lastSeenMs: 1e300 }), 'lastSeenMs is not a time within ten years of now'],
    ['sessions an object', v2({ sessions: { a: 1 } }), 'sessions is not a list'],
    ['a session that is a list', v2({ sessions: [['a', NOW]] }), 'sessions[0] is not an object'],
    ['an empty session id', withSession({ id: '' }), 'sessions[0].id is not a session id'],
    ['an id of 129 characters', withSession({ id: 'a'.repeat(129) }), 'sessions[0].id is not a session id'],
    ['an id of 1 MB', withSession({ id: 'a'.repeat(1e6) }), 'sessions[0].id is not a session id'],
    ['an id with markup', withSession({ id: '<script>' }), 'sessions[0].id is not a session id'],
    ['an id like the default', withSession({ id: '(default) ' }), 'sessions[0].id is not a session id'],
    ['a deadline past any Date', withSession({ expiresAtMs: 1e300 }), 'sessions[0].expiresAtMs is not a time within ten years of now'],
    ['a status since 1970', withSession({ statusSinceMs: 1 }), 'sessions[0].statusSinceMs is not a time within ten years of now'],
    ['an unknown status', withSession({ status: 'asleep' }), /^sessions\[0\]\.status is not one of working, waiting, live, idle$/],
    ['offline as a session status', withSession({ status: 'offline' }), /^sessions\[0\]\.status/],
    ['activity a string', withSession({ activity: 'editing' }), 'sessions[0].activity is not an object'],
    ['a model with an escape', withSession({ activity: { model: 'Opus\u001b[2J' } }), 'sessions[0].activity.model is not a public name'],
    ['a project with a bidi override', withSession({ activity: { project: 'blog\u202Egnp' } }), 'sessions[0].activity.project is not a public name'],
    ['a project of 49 characters', withSession({ activity: { project: 'p'.repeat(49) } }), 'sessions[0].activity.project is not a public name'],
    ['a tool that is not a verb', withSession({ activity: { tool: 'Bash: rm -rf /' } }), /^sessions\[0\]\.activity\.tool is not one of/],
    ['sessions without a start', v2({ sinceMs: null, sessions: [one] }), 'sessions without a start time'],
    [`${MAX_SAVED_SESSIONS + 1} sessions`, v2({ sessions: Array.from({ length: MAX_SAVED_SESSIONS + 1 }, (_, i) => ({ ...one, id: `s${i}` })) }),
      `sessions has ${MAX_SAVED_SESSIONS + 1} entries, more than ${MAX_SAVED_SESSIONS}`],
    ['version 1, since a string', v1('"yesterday"', '[]'), /^sinceMs is not a time/],
    ['version 1, expiries an object', v1(String(NOW), '{"a":2}'), 'expiries is not a list'],
    ['version 1, an expiry without a time', v1(String(NOW), '[["a"]]'), 'expiries[0] is not a list of 2'],
    ['version 1, a time that is not finite', v1(String(NOW), '[["a",1e999]]'), /^expiries\[0\]\[1\] is not a time/],
    ['version 1, an id with a space', v1(String(NOW), `[["a b",${NOW}]]`), 'expiries[0][0] is not a session id'],
    ['version 1, sessions without a start', v1('null', `[["a",${NOW}]]`), 'sessions without a start time']
  ]
  for (const [name, text, reason] of cases) t.throws(() => parseSessions(text, NOW), { message: reason }, name)
  const most = Array.from({ length: MAX_SAVED_SESSIONS }, (_, i) => ({ ...one, id: `s${i}` }))
  t.equal(parseSessions(v2({ sessions: most }), NOW).sessions.length, MAX_SAVED_SESSIONS, `${MAX_SAVED_SESSIONS} sessions are fine`)
  t.same(parseSessions(withSession({ activity: { model: 'Opus 4.5', branch: 'main' } }), NOW).sessions[0]?.activity, { model: 'Opus 4.5' },
    'a field no version writes is left out')
})

t.test('random text and random JSON either parse to a record that restores, or throw an Error', async (t) => {
  const text = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((value) => JSON.stringify({ version: 2, ...(typeof value === 'object' ? value : { sessions: value }) })),
    fc.jsonValue().map((value) => JSON.stringify({ version: 1, ...(typeof value === 'object' ? value : { sinceMs: value }) })),
    storeRecord.chain((record) => fc.jsonValue().map((noise) => JSON.stringify({ version: 2, ...record, sessions: [...record.sessions, noise] })))
  )
  let accepted = 0
  fc.assert(fc.property(text, (input) => {
    let record: StoreRecord
    try {
      record = parseSessions(input, NOW)
    } catch (error) {
      return error instanceof Error
    }
    accepted++
    restore(record)
    return withinRange(record)
  }), { numRuns: 2000 })
  t.pass(`2000 inputs, no crash, no out-of-range record, every accepted one (${accepted}) restored`)
})

t.test('hostile but parseable records: refused with an Error, or within range and restored without throwing', async (t) => {
  // Values a hostile or damaged file could hold, mixed with ones the service writes, so both outcomes come up.
  // Mostly what the service writes, so that whole records of several fields get through often enough.
  const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: bad })
  const hostileTime = mostly(times, fc.oneof(fc.double(), fc.constantFrom(-1e300, 1e300, -8.64e15, 8.64e15, 8.64e15 + 1, 0, -0, Number.MAX_VALUE, -Number.MIN_VALUE)))
  const hostileId = mostly(sessionIds, fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ minLength: 129, maxLength: 300 })))
  const hostileName = mostly(publicName, fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 50 })))
  const hostileSession = mostly(
    fc.record({
      id: hostileId,
      expiresAtMs: hostileTime,
      status: mostly(fc.constantFrom(...SESSION_STATUSES), fc.string()),
      statusSinceMs: hostileTime,
      activity: fc.record({ model: hostileName, project: hostileName, tool: mostly(fc.constantFrom(...TOOL_VERBS), fc.string()) }, { requiredKeys: [] })
    }),
    fc.jsonValue()
  )
  const data = fc.record({
    version: fc.oneof({ weight: 9, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.jsonValue() }),
    seq: mostly(fc.nat(), fc.oneof(fc.double(), fc.constantFrom(-1, 2 ** 53, 1e300))),
    sinceMs: fc.oneof(hostileTime, fc.constant(null)),
    lastSeenMs: fc.oneof(hostileTime, fc.constant(null)),
    sessions: fc.oneof(
      { weight: 9, arbitrary: fc.array(hostileSession, { maxLength: 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: MAX_SAVED_SESSIONS - 2, max: MAX_SAVED_SESSIONS + 2 }).map((length) => Array.from({ length }, (_, i) => ({ id: `s${i}`, expiresAtMs: NOW, status: 'live', statusSinceMs: NOW, activity: {} }))) }
    )
  })
  const outcomes = { accepted: 0, refused: 0 }
  fc.assert(fc.property(data, fc.integer({ min: -60_000, max: 60_000 }), (value, restartAfterMs) => {
    let record: StoreRecord
    try {
      record = parseSessions(JSON.stringify(value), NOW)
    } catch (error) {
      outcomes.refused++
      return error instanceof Error
    }
    outcomes.accepted++
    const state = restore(record, NOW + restartAfterMs)
    return withinRange(record) && [state.since, state.lastSeen, ...state.activity.map(({ since }) => since)]
      .every((time) => time === null || !Number.isNaN(Date.parse(time)))
  }), { numRuns: 2000 })
  t.ok(outcomes.accepted > 100 && outcomes.refused > 100, `both outcomes tried: ${JSON.stringify(outcomes)}`)
})
