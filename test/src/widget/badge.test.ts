import t from 'tap'
import { renderBadge } from '../../../src/widget/badge.ts'

function widths (svg: string): number[] {
  return [...svg.matchAll(/<rect (?:x="\d+" )?width="(\d+)" height="20" fill="#/g)].map(([, width]) => Number(width))
}

t.test('the two halves fit their text: a longer message makes a wider badge', async (t) => {
  const live = renderBadge('claude code', 'live', '#4c1')
  const offline = renderBadge('claude code', 'offline', '#9f9f9f')
  const [liveLabel, liveMessage] = widths(live)
  const [offlineLabel, offlineMessage] = widths(offline)
  t.equal(liveLabel, offlineLabel, 'the same label, the same width')
  t.ok(offlineMessage! > liveMessage!, `"offline" (${offlineMessage}) wider than "live" (${liveMessage})`)
  t.match(live, new RegExp(`<svg [^>]*width="${liveLabel! + liveMessage!}"`))
})

t.test('text is escaped, so a label cannot inject markup', async (t) => {
  const svg = renderBadge('a<b>&"c"', 'ok', '#4c1')
  t.notMatch(svg, /<b>/)
  t.match(svg, /a&#60;b&#62;&#38;&#34;c&#34;/)
})
