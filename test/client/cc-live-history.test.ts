import t, { type Test } from 'tap'
import { addDays, formatSeconds, gridStart, watchHistory, type Report } from '../../client/cc-live-history.js'
import { FakeTransport } from '../helpers/fake-transport.ts'

t.test('dates and durations as the element writes them', async (t) => {
  t.equal(addDays('2026-03-29', 1), '2026-03-30', 'whole days, whatever the browser\'s zone')
  t.equal(addDays('2026-01-01', -1), '2025-12-31')
  t.equal(gridStart('2026-03-04', 52), '2025-03-09', 'a Sunday, 51 weeks before the week of a Wednesday')
  t.equal(gridStart('2026-03-01', 4), '2026-02-08', 'a Sunday itself: the column starts on it')
  t.same([formatSeconds(0), formatSeconds(30), formatSeconds(3600 + 12 * 60)], ['0 min', '<1 min', '1 h 12 min'])
})

function report (today: Partial<Report['today']> = {}, from = '2025-03-05'): Report {
  const day = { date: '2026-03-04', active: 0, working: 0, waiting: 0, ...today }
  return { timezone: 'UTC', from, to: day.date, days: [day], totals: { active: day.active, working: day.working, waiting: day.waiting, activeDays: 1 }, streak: { current: 1, longest: 1 }, today: day, levels: [1, 3600, 7200, 14400] }
}

/** watchHistory on a fake live connection, a fake server for the history and a clock the test moves. */
function watch (t: Test, options: { metric?: 'active' | 'working', from?: (today: string) => string } = {}) {
  const socket = new FakeTransport()
  const requests: string[] = []
  const answers: Report[] = []
  let now = 1_000_000
  const seen: number[] = []
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
  const stop = watchHistory(`ws://history-${Math.random()}.test/ws/live`, (_report, today) => seen.push(today), {
    ...options,
    now: () => now,
    fetch: async (url) => {
      requests.push(String(url))
      // Answered a moment later, as a server would: the test says what before it settles.
      await settle()
      return new Response(JSON.stringify(answers.shift() ?? report()))
    },
    live: { transports: { websocket: socket.open } }
  })
  t.teardown(stop)
  return { socket, requests, answers, seen, settle, pass: (ms: number) => { now += ms } }
}

let seq = 0
const STATE = (status: string) => JSON.stringify({ seq: ++seq, active: status !== 'offline', status, since: '2026-03-04T10:00:00Z', sessions: 1, lastSeen: null, activity: [] })

t.test('today: the server\'s figure, counted on while live, asked again when it starts and stops counting', async (t) => {
  const { socket, requests, answers, seen, settle, pass } = watch(t)
  answers.push(report({ active: 600 }))
  await settle()
  t.same(seen, [600], 'the figure as the server had it')
  t.match(requests, [/^http:\/\/history-[\d.]+\.test\/ws\/live\/history$/])

  const connection = await socket.connection(0)
  answers.push(report({ active: 660 }))
  connection.send(STATE('working'))
  await settle()
  t.equal(requests.length, 2, 'going live: asked again')
  t.equal(seen.at(-1), 660)
  pass(90_000)
  connection.send(STATE('waiting'))
  await settle()
  t.equal(requests.length, 2, 'waiting is still active: nothing asked')

  answers.push(report({ active: 760 }))
  connection.send(STATE('offline'))
  await settle()
  t.equal(requests.length, 3, 'offline: asked again')
  t.equal(seen.at(-1), 760, 'and the server\'s figure is the one shown')
})

t.test('while counting, today is never shown as nothing', async (t) => {
  const { socket, seen, settle } = watch(t)
  await settle()
  ;(await socket.connection(0)).send(STATE('idle'))
  await settle()
  t.equal(seen.at(-1), 1, 'live for less than a second: some of today all the same')
})

t.test('metric=working counts only while working', async (t) => {
  const { socket, requests, settle } = watch(t, { metric: 'working' })
  await settle()
  const connection = await socket.connection(0)
  connection.send(STATE('idle'))
  await settle()
  t.equal(requests.length, 1, 'idle: not working, nothing to ask')
  connection.send(STATE('working'))
  await settle()
  t.equal(requests.length, 2)
})

t.test('a grid longer than the default range asks once more, from the day it needs', async (t) => {
  const { requests, answers, settle } = watch(t, { from: (today) => gridStart(today, 53) })
  answers.push(report({}, '2025-03-05'))
  for (let i = 0; i < 4; i++) await settle()
  t.equal(requests.length, 2)
  t.match(requests[1], /\/ws\/live\/history\?from=2025-03-02$/)
})
