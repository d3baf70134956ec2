/** The page at /ws/live/demo: the element in its default and a themed look, the badge, and subscribe(). */
export function demoPage (clientUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cc-live demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
  code, pre { font: 14px ui-monospace, monospace; background: #f6f8fa; padding: .1em .3em; border-radius: 4px; }
  pre { padding: 1rem; overflow-x: auto; }
  .themed { --cc-live-color: #8250df; --cc-live-dot-size: .9em; font-size: 1.25rem; }
  .themed::part(label) { font-weight: 600; }
</style>
<script type="module" src="${clientUrl}"></script>
</head>
<body>
<h1>cc-live demo</h1>
<p>Default: <cc-live-status></cc-live-status></p>
<p>Themed with custom properties and <code>::part</code>: <cc-live-status class="themed"></cc-live-status></p>
<p>Badge: <img src="badge.svg" alt="Claude Code status badge"> (reload to refresh)</p>
<p>Go live with <code>POST /api/live/heartbeat</code> and your key, stop with <code>POST /api/live/stop</code>:
every element on this page follows within a second, over one shared connection.</p>
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
