import { XMLParser, XMLValidator } from 'fast-xml-parser'
import t, { type Test } from 'tap'
import type { HistoryReport } from '../../src/history/report.ts'
import { AUTH, buildTestApp } from '../helpers/app.ts'
import { FakeClock } from '../helpers/fake-clock.ts'
import { HOUR, settled } from '../helpers/history.ts'

const NOON = Date.parse('2026-03-04T12:00:00Z') // a Wednesday

/** A test app on a fake clock; `live(ms, status)` keeps session `a` in that status for that long. */
async function historyApp (t: Test, env: Record<string, string> = {}) {
  const clock = new FakeClock(NOON)
  const app = await buildTestApp(t, { clock, env: { CC_LIVE_TTL_SECONDS: '86400', ...env } })
  const beat = (body: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH, payload: { session_id: 'secret-session-id', ...body } })
  const pass = async (ms: number) => {
    for (let left = ms; left > 0; left -= 60_000) {
      clock.advance(Math.min(60_000, left))
      await settled()
    }
  }
  return { app, clock, beat, pass }
}

const get = (app: Awaited<ReturnType<typeof historyApp>>['app'], url: string, headers: Record<string, string> = {}) => app.inject({ url, headers })

t.test('GET /ws/live/history: every day of the last 365, the totals, the streak and today, live up to the moment', async (t) => {
  const { app, beat, pass } = await historyApp(t)
  await beat({ status: 'working' })
  await pass(2 * HOUR)
  await beat({ status: 'waiting' })
  await pass(HOUR / 2)
  const res = await get(app, '/ws/live/history')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.equal(res.headers['cache-control'], 'no-cache')
  const report = res.json() as HistoryReport
  t.equal(report.days.length, 365)
  t.same([report.from, report.to, report.timezone], ['2025-03-05', '2026-03-04', 'UTC'])
  t.same(report.today, { date: '2026-03-04', active: 9000, working: 7200, waiting: 1800 })
  t.same(report.days.at(-1), report.today)
  t.same(report.totals, { active: 9000, working: 7200, waiting: 1800, activeDays: 1 })
  t.same(report.streak, { current: 1, longest: 1 })
  t.same(report.levels, [1, 3600, 7200, 14400])
})

t.test('GET /ws/live/history: from and to pick the days, up to 400 of them', async (t) => {
  const { app } = await historyApp(t)
  const week = (await get(app, '/ws/live/history?from=2026-02-26&to=2026-03-04')).json() as HistoryReport
  t.same(week.days.map(({ date }) => date), ['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'])
  t.equal(((await get(app, '/ws/live/history?from=2025-01-31&to=2026-03-06')).json() as HistoryReport).days.length, 400, 'at most 400, days to come included')
  t.equal(((await get(app, '/ws/live/history?to=2026-01-01')).json() as HistoryReport).from, '2025-01-02', 'from defaults to 365 days before to')
  t.equal(((await get(app, '/ws/live/history?from=2026-03-04')).json() as HistoryReport).days.length, 1, 'to defaults to today')
})

t.test('every parameter out of its bounds: 400 in the one error shape, naming it, and nothing else answered', async (t) => {
  const { app } = await historyApp(t)
  const cases: Array<[string, RegExp]> = [
    ['/ws/live/history?from=2026-3-1', /^from: must be a date written YYYY-MM-DD/],
    ['/ws/live/history?from=2026-02-30', /^from: must be a date written YYYY-MM-DD/],
    ['/ws/live/history?to=yesterday', /^to: must be a date written YYYY-MM-DD/],
    ['/ws/live/history?to=2026-03-04T00:00', /^to: must be a date/],
    ['/ws/live/history?from=2026-03-05&to=2026-03-04', /^from: must not be after to \(2026-03-04\)$/],
    ['/ws/live/history?from=2025-01-30&to=2026-03-06', /^from: must be at most 400 days before to/],
    ['/ws/live/history?to=9999-12-31', /^to: must be within 3660 days of today \(2026-03-04\)$/],
    ['/ws/live/history?from=9999-12-31&to=9999-12-31', /^to: must be within 3660 days of today/],
    ['/ws/live/history?from=0001-01-01&to=0001-01-02', /^to: must be within 3660 days of today/],
    ['/ws/live/history?from=2016-02-24&to=2016-03-01', /^from: must be within 3660 days of today/],
    ['/ws/live/history?from=2036-03-06&to=2036-03-12', /^to: must be within 3660 days of today/],
    ['/ws/live/history?from=2026-01-01&from=2026-01-02', /querystring\/from must be string/],
    ['/ws/live/sessions?limit=0', /^limit: must be a whole number from 1 to 100$/],
    ['/ws/live/sessions?limit=101', /^limit: must be a whole number from 1 to 100$/],
    ['/ws/live/sessions?limit=1.5', /^limit: must be a whole number/],
    ['/ws/live/sessions?limit=-1', /^limit: must be a whole number/],
    ['/ws/live/sessions?limit=', /^limit: must be a whole number/],
    ['/ws/live/sessions?limit=1e2', /^limit: must be a whole number/],
    ['/ws/live/history.svg?weeks=3', /^weeks: must be a whole number from 4 to 53$/],
    ['/ws/live/history.svg?weeks=54', /^weeks: must be a whole number from 4 to 53$/],
    ['/ws/live/history.svg?metric=waiting', /^metric: must be active or working$/],
    ['/ws/live/history.svg?theme=blue', /^theme: must be auto, light or dark$/]
  ]
  for (const [url, message] of cases) {
    const res = await get(app, url)
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { statusCode: 400, code: /^(CC_LIVE_BAD_QUERY|FST_ERR_VALIDATION)$/, error: 'Bad Request', message }, url)
  }
  const edges = ['/ws/live/history?from=2025-02-02&to=2026-03-07', '/ws/live/history?from=2016-02-25&to=2016-03-01', '/ws/live/history?from=2036-03-05&to=2036-03-11', '/ws/live/sessions?limit=1', '/ws/live/sessions?limit=100',
    '/ws/live/history.svg?weeks=4', '/ws/live/history.svg?weeks=53', '/ws/live/history.svg?metric=working&theme=dark', '/ws/live/history?unknown=1']
  for (const url of edges) t.equal((await get(app, url)).statusCode, 200, `${url}: within bounds`)
})

t.test('ETag and 304 on each, and a new ETag once anything changed', async (t) => {
  const { app, beat, pass } = await historyApp(t)
  for (const url of ['/ws/live/history', '/ws/live/sessions', '/ws/live/history.svg', '/ws/live/history.js']) {
    const first = await get(app, url)
    const etag = first.headers.etag as string
    t.match(etag, /^"[\w-]{16}"$/, url)
    const again = await get(app, url, { 'if-none-match': etag })
    t.equal(again.statusCode, 304, `${url}: 304 for the same ETag`)
    t.equal(again.body, '')
    t.equal(again.headers.etag, etag)
    t.equal(again.headers['access-control-allow-origin'], '*')
  }
  const before = (await get(app, '/ws/live/history')).headers.etag as string
  await beat({})
  await pass(60_000)
  const after = await get(app, '/ws/live/history', { 'if-none-match': before })
  t.equal(after.statusCode, 200, 'a minute live later: the new figures')
  t.not(after.headers.etag, before)
})

t.test('GET /ws/live/sessions: the latest first, open while live, times per status and the fields public now; never an id', async (t) => {
  const { app, beat, pass } = await historyApp(t, { CC_LIVE_PUBLIC_FIELDS: 'model,project' })
  await beat({ status: 'working', activity: { model: 'Opus 4.5', project: 'blog', tool: 'editing' } })
  await pass(HOUR)
  await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH, payload: { session_id: 'secret-session-id' } })
  await pass(HOUR)
  await beat({ session_id: 'other-session', status: 'idle' })
  await pass(60_000)
  const res = await get(app, '/ws/live/sessions')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-cache')
  t.same(res.json(), {
    sessions: [
      { start: '2026-03-04T14:00:00.000Z', end: null, seconds: { working: 0, waiting: 0, idle: 60, live: 0 }, activity: {} },
      { start: '2026-03-04T12:00:00.000Z', end: '2026-03-04T13:00:00.000Z', seconds: { working: 3600, waiting: 0, idle: 0, live: 0 }, activity: { model: 'Opus 4.5', project: 'blog' } }
    ]
  })
  t.notMatch(res.body, /secret-session-id|other-session/, 'no session id')
  t.equal((await get(app, '/ws/live/sessions?limit=1')).json().sessions.length, 1)
})

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' })
interface Cell { x: string, y: string, class: string, title: string }

t.test('GET /ws/live/history.svg: well-formed SVG, a cell with a title per day, never cached stale', async (t) => {
  const { app, beat, pass } = await historyApp(t)
  await beat({ status: 'working' })
  await pass(3 * HOUR + 12 * 60_000)
  const res = await get(app, '/ws/live/history.svg')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^image\/svg\+xml/)
  t.equal(res.headers['cache-control'], 'no-cache, max-age=0')
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.equal(XMLValidator.validate(res.body), true, 'well-formed XML')
  const svg = xml.parse(res.body).svg
  t.equal(svg.xmlns, 'http://www.w3.org/2000/svg')
  const cells = (svg.rect as Cell[]).filter((rect) => rect.title !== undefined && /^\d{4}-/.test(rect.title))
  // 51 full weeks before this one, and Sunday to Wednesday of this one.
  t.equal(cells.length, 51 * 7 + 4, 'a cell per day, none for the days to come')
  t.equal(cells[0]?.title, '2025-03-09: no activity', 'starting on a Sunday')
  t.same(cells.at(-1), { x: cells.at(-1)?.x, y: cells.at(-1)?.y, width: '10', height: '10', rx: '2', class: 'l3', title: '2026-03-04: 3 h 12 min active' })
  t.match(svg.title['#text'], /^Claude Code: 3 h 12 min active in the last 52 weeks; streak 1 day · longest 1 day; now working$/)
  t.match(res.body, /<circle [^>]*class="working"\/>/, 'the status dot')
  t.match(res.body, /@media \(prefers-color-scheme:dark\)/, 'theme=auto by default: follows the reader')
})

t.test('history.svg: a day of under a minute is titled "<1 min", escaped', async (t) => {
  const { app, beat, pass } = await historyApp(t)
  await beat({ status: 'working' })
  await pass(30_000)
  const res = await get(app, '/ws/live/history.svg')
  t.equal(XMLValidator.validate(res.body), true, 'well-formed XML')
  t.match(res.body, /<title>2026-03-04: &#60;1 min active<\/title>/)
})

t.test('history.svg: weeks, metric and theme', async (t) => {
  const { app } = await historyApp(t)
  const small = await get(app, '/ws/live/history.svg?weeks=4&metric=working&theme=dark')
  const svg = xml.parse(small.body).svg
  t.equal((svg.rect as Cell[]).filter((rect) => /^\d{4}-/.test(rect.title ?? '')).length, 3 * 7 + 4)
  t.match(small.body, /no activity/)
  t.match(small.body, /0 min working in the last 4 weeks/)
  t.notMatch(small.body, /prefers-color-scheme/, 'a fixed theme')
  t.match(small.body, /\.bg\{fill:#0d1117/)
  t.match((await get(app, '/ws/live/history.svg?theme=light')).body, /\.bg\{fill:#fff;/)
})

t.test('history.js: the module, served like client.js, importing the status module by its served name', async (t) => {
  const { app } = await historyApp(t)
  const res = await get(app, '/ws/live/history.js', { 'accept-encoding': 'gzip' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/javascript/)
  t.equal(res.headers['content-encoding'], 'gzip')
  const plain = await get(app, '/ws/live/history.js')
  t.match(plain.body, /from '\.\/client\.js'/)
  t.notMatch(plain.body, /from '\.\/cc-live-status\.js'/)
  const version = (plain.headers.etag as string).slice(1, -1)
  t.equal((await get(app, `/ws/live/history.js?v=${version}`)).headers['cache-control'], 'public, max-age=31536000, immutable')
})

t.test('CC_LIVE_HISTORY=off: every history route answers 404 with its own code, and nothing is recorded', async (t) => {
  const { app, beat, pass } = await historyApp(t, { CC_LIVE_HISTORY: 'off' })
  t.equal(app.history, null)
  await beat({ status: 'working' })
  await pass(HOUR)
  for (const url of ['/ws/live/history', '/ws/live/history?from=x', '/ws/live/sessions', '/ws/live/history.svg', '/ws/live/history.js']) {
    const res = await get(app, url)
    t.equal(res.statusCode, 404, url)
    t.same(res.json(), { statusCode: 404, code: 'CC_LIVE_HISTORY_OFF', error: 'Not Found', message: 'this server keeps no history (CC_LIVE_HISTORY=off)' })
  }
  t.equal((await get(app, '/ws/live')).statusCode, 200, 'the live state is served as ever')
})
