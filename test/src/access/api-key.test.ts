import t from 'tap'
import { checkApiKey } from '../../../src/access/api-key.ts'

t.test('keys a bearer header can carry are accepted', async (t) => {
  for (const key of ['0123456789abcdef0123456789abcdef', 'dev-key-change-me-0123456789', 'A.b_c~d+e/f-g0123456==', 'base64+url/safe_-~.=']) {
    t.doesNotThrow(() => checkApiKey(key), key)
  }
})

t.test('whitespace anywhere is refused, without repeating the key', async (t) => {
  for (const key of ['secret-key-0123456789\n', ' secret-key-0123456789', 'secret-key\t0123456789', 'secret key 0123456789', 'secret-key-0123456789\r']) {
    t.throws(() => checkApiKey(key), { name: 'TypeError', message: /whitespace/ }, JSON.stringify(key))
    try {
      checkApiKey(key)
    } catch (error) {
      t.notMatch((error as Error).message, 'secret')
    }
  }
})

t.test('characters outside RFC 6750 b64token, or = before the end, are refused', async (t) => {
  for (const key of ['secret-key-0123456789"', 'secret,key,0123456789', 'secret-key-0123456789é', 'secret=key=0123456789', '=secret-key-0123456789', 'secret:key;0123456789']) {
    t.throws(() => checkApiKey(key), { name: 'TypeError', message: /b64token/ }, key)
  }
})
