import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { configSchema } from '../../src/config.ts'
import { API_ERRORS } from '../../src/errors.ts'
import { TEST_ENV } from '../helpers/app.ts'

// The docs say what the code does: these hold the parts that can be checked to the code.
const DOCS = ['README.md', ...readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => join('docs', name))]
const text = (path: string) => readFileSync(path, 'utf8')

/** The rows of the first markdown table after `heading`, as lists of cells. */
function tableAfter (markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading)
  if (start === -1) throw new Error(`no heading ${heading}`)
  const lines = markdown.slice(start).split('\n')
  const first = lines.findIndex((line) => line.startsWith('|'))
  const rows = []
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break
    rows.push(line.slice(1, -1).split(' | ').map((cell) => cell.trim()))
  }
  return rows
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '')

t.test('the README configuration table lists every setting, with its default', async (t) => {
  const rows = tableAfter(text('README.md'), '## Configuration')
  const documented = new Map(rows.map(([name = '', byDefault = '']) => [unquote(name), byDefault]))
  t.same([...documented.keys()].sort(), Object.keys(configSchema.properties).sort())
  for (const [name, property] of Object.entries(configSchema.properties) as Array<[string, { default?: unknown }]>) {
    const byDefault = documented.get(name) ?? ''
    if (property.default === undefined || property.default === '') t.match(byDefault, /^\(/, `${name}: no default, said in words`)
    else t.equal(unquote(byDefault), String(property.default), `${name}: default ${String(property.default)}`)
  }
})

t.test('docs/protocol.md lists every error code with its status and message, and no other', async (t) => {
  const rows = tableAfter(text('docs/protocol.md'), '## Errors')
  t.same(rows.map(([code = '', status = '', message = '']) => [unquote(code), Number(status), message]),
    Object.entries(API_ERRORS).map(([code, { statusCode, message }]) => [code, statusCode, message]))
})

t.test('docs/protocol.md documents every route the service serves', async (t) => {
  const app = buildApp({ env: TEST_ENV })
  const routes: string[] = []
  app.addHook('onRoute', ({ method, url }) => { for (const one of [method].flat()) if (one !== 'HEAD') routes.push(`${one} ${url}`) })
  await app.ready()
  await app.close()
  const protocol = text('docs/protocol.md')
  for (const route of routes) t.ok(protocol.includes(`\`${route}`), `${route} is documented`)
})

t.test('every file the docs name exists, and every relative link leads somewhere', async (t) => {
  for (const doc of DOCS) {
    const markdown = text(doc)
    for (const [, path] of markdown.matchAll(/`((?:test|src|plugins|routes|client|scripts|bench|docs)\/[\w./-]+\.(?:ts|js|sh|md|png))`/g)) {
      t.ok(existsSync(path ?? ''), `${doc}: ${path} exists`)
    }
    for (const [, linked, embedded] of markdown.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)|src="([^"]+)"/g)) {
      const target = linked ?? embedded
      // Absolute paths and URLs are the service's or the web's, not files here.
      if (target === undefined || /^(?:[a-z]+:|\/)/.test(target)) continue
      t.ok(existsSync(join(dirname(doc), target)), `${doc}: link to ${target}`)
    }
  }
})

t.test('docs/architecture.md lists the plugins in the order src/app.ts registers them', async (t) => {
  const app = text('src/app.ts')
  const modules = new Map([...app.matchAll(/^import (\w+)(?:, \{[^}]*\})? from '\.\.\/(plugins\/[\w-]+\.ts)'$/gm)].map(([, name = '', path = '']) => [name, path]))
  const registered = [...app.matchAll(/app\.register\((\w+)/g)].flatMap(([, name = '']) => modules.get(name) ?? [])
  const documented = tableAfter(text('docs/architecture.md'), '## Plugins').map(([plugin = '']) => unquote(plugin))
  t.same(documented, registered)
})
