import t from 'tap'
import { parseRedisSettings, RedisSettingError } from '../../../src/redis/settings.ts'

const SECRET = 's3cret-Pa55'

t.test('empty URL: the state stays in this process', async (t) => {
  t.equal(parseRedisSettings('', '', 'cc-live:'), null)
})

t.test('redis:// and rediss:// (TLS), with the password in the URL or apart; log lines get the endpoint only', async (t) => {
  t.same(parseRedisSettings('redis://valkey:6379', '', 'cc-live:'), { url: 'redis://valkey:6379', password: undefined, prefix: 'cc-live:', endpoint: 'redis://valkey:6379' })
  t.match(parseRedisSettings(`rediss://:${SECRET}@cache.example.com:6380/2`, '', 'mine:'), { password: undefined, prefix: 'mine:', endpoint: 'rediss://cache.example.com:6380' })
  t.match(parseRedisSettings('redis://[::1]:6379', SECRET, 'cc-live:'), { password: SECRET, endpoint: 'redis://[::1]:6379' })
})

t.test('a bad setting is named, with a reason that never repeats the URL or the password', async (t) => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['not a URL', `:${SECRET}@nowhere`, '', /^is not a URL/],
    ['another scheme', `http://user:${SECRET}@valkey:6379`, '', /^must start with redis:\/\/ or rediss:\/\//],
    ['a path that is not a database number', `redis://:${SECRET}@valkey:6379/cache`, '', /database number/],
    ['the password twice', `redis://:${SECRET}@valkey:6379`, 'other', /give it in one place/],
    ['a password without a URL', '', SECRET, /CC_LIVE_REDIS_URL is not/]
  ]
  for (const [what, url, password, reason] of cases) {
    const error = t.throws(() => parseRedisSettings(url, password, 'cc-live:'), RedisSettingError, what) as RedisSettingError
    t.match(error.message, reason, what)
    t.notMatch(error.message, SECRET, `${what}: the secret is not repeated`)
    t.match(error.variable, /^CC_LIVE_REDIS_(URL|PASSWORD)$/)
  }
})
