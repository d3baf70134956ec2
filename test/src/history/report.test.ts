import t from 'tap'
import { historyReport, streakOf } from '../../../src/history/report.ts'

t.test('the report walks its days by count: a range at the end of year 9999 ends where it should', async (t) => {
  const report = historyReport({ timezone: 'UTC', from: '9999-12-30', to: '9999-12-31', today: '9999-12-31', days: [] })
  t.same(report.days.map(({ date }) => date), ['9999-12-30', '9999-12-31'])
  t.same(report.totals, { active: 0, working: 0, waiting: 0, activeDays: 0 })
})

t.test('streaks compare dates as dates', async (t) => {
  t.same(streakOf(['2026-03-02', '2026-03-03', '2026-03-05'], '2026-03-05'), { current: 1, longest: 2 })
  t.same(streakOf(['9999-12-30', '9999-12-31'], '9999-12-31'), { current: 2, longest: 2 })
  t.same(streakOf(['2026-03-03', '2026-03-04'], '2026-03-03'), { current: 1, longest: 1 }, 'days after today do not count')
})
