import t from 'tap'
import { parseAllowedOrigins } from '../../../src/access/allowed-origins.ts'
import { splitList } from '../../../src/config.ts'

const parse = (setting: string) => parseAllowedOrigins(splitList(setting))

t.test('an empty list allows any origin', async (t) => {
  t.equal(parse(''), null)
  t.equal(parse(' , '), null)
})

t.test('entries are trimmed and put in the form browsers send', async (t) => {
  t.same([...parse(' https://Blog.Example ,http://localhost:4000,https://blog.example:443') ?? []],
    ['https://blog.example', 'http://localhost:4000'])
})

t.test('anything but a bare http(s) origin is refused, naming the entry', async (t) => {
  for (const entry of ['blog.example', 'https://blog.example/', 'https://blog.example/page', 'https://blog.example?x', 'ftp://blog.example', 'https://user@blog.example', '*', 'null']) {
    t.throws(() => parse(`https://ok.example,${entry}`), { message: `"${entry}" is not an origin such as https://blog.example.com` }, entry)
  }
})
