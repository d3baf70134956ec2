/** A heartbeat body that puts the session `demo` in each status, for the page's try-it table. */
const TRY_STATUSES: ReadonlyArray<[status: string, body: string]> = [
  ['working', '{"session_id":"demo","status":"working","activity":{"model":"Opus 4.5","project":"blog","tool":"editing"}}'],
  ['waiting', '{"session_id":"demo","status":"waiting"}'],
  ['idle', '{"session_id":"demo","status":"idle"}']
]

/**
 * The page at /ws/live/demo: the element in its default look, with parts hidden and themed, the
 * badge, subscribe(), and how to put the service in each status.
 */
export function demoPage (clientUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cc-live demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
  code, pre { font: 14px ui-monospace, monospace; background: #f6f8fa; padding: .1em .3em; border-radius: 4px; }
  pre { padding: 1rem; overflow-x: auto; }
  h2 code { font-size: inherit; }
  td { padding: .2em .6em .2em 0; vertical-align: top; }
  .themed { --cc-live-color: #8250df; --cc-live-waiting-color: #cf222e; --cc-live-idle-color: #57606a; --cc-live-dot-size: .9em; font-size: 1.25rem; }
  .themed::part(label) { font-weight: 600; }
  .themed::part(activity) { color: #59636e; }
</style>
<script type="module" src="${clientUrl}"></script>
</head>
<body>
<h1>cc-live demo</h1>
<p>Default: <cc-live-status></cc-live-status></p>
<p>Status and time only, <code>hide="activity last-seen"</code>: <cc-live-status hide="activity last-seen"></cc-live-status></p>
<p>Themed with custom properties and <code>::part</code>: <cc-live-status class="themed"></cc-live-status></p>
<p>Badge: <img src="badge.svg" alt="Claude Code status badge"> (reload to refresh)</p>
<h2>Each status</h2>
<p>Send a heartbeat body below with your key, and every element on this page follows within a second,
over one shared connection:</p>
<pre>curl -H "Authorization: Bearer $CC_LIVE_API_KEY" \\
  -H 'Content-Type: application/json' \\
  -d '<var>body</var>' <var>this origin</var>/api/live/heartbeat</pre>
<table>
${TRY_STATUSES.map(([status, body]) => `<tr><td>${status}</td><td><code>${body}</code></td></tr>`).join('\n')}
<tr><td>live</td><td>no body: a session that never says its status, as the hooks before protocol v2</td></tr>
<tr><td>offline</td><td><code>POST /api/live/stop</code> with no body ends every session; then <q>last seen</q> counts up</td></tr>
</table>
<h2><code>subscribe()</code></h2>
<pre id="view">connecting…</pre>
<script type="module">
  import { subscribe } from '${clientUrl}'
  const pre = document.getElementById('view')
  subscribe('/ws/live', (view) => { pre.textContent = JSON.stringify(view, null, 2) })
</script>
</body>
</html>
`
}
