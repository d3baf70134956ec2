import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { TEST_ENV } from '../helpers/app.ts'

async function startWith (env: Record<string, string | undefined>) {
  const app = buildApp({ env })
  try {
    await app.ready()
    return app.config
  } finally {
    await app.close()
  }
}

t.test('defaults apply when only the key is set', async (t) => {
  const config = await startWith({ CC_LIVE_API_KEY: TEST_ENV.CC_LIVE_API_KEY })
  t.match(config, {
    CC_LIVE_API_KEY: TEST_ENV.CC_LIVE_API_KEY,
    PORT: 8080,
    HOST: '0.0.0.0',
    CC_LIVE_TTL_SECONDS: 60,
    CC_LIVE_PING_SECONDS: 30,
    LOG_LEVEL: 'info',
    CC_LIVE_TRUST_PROXY: '',
    CC_LIVE_STATE_FILE: '',
    CC_LIVE_MAX_VIEWERS: 10000,
    CC_LIVE_MAX_VIEWERS_PER_IP: 50,
    CC_LIVE_MAX_CONNECTIONS_PER_IP: 100,
    CC_LIVE_ALLOWED_ORIGINS: '',
    ttlMs: 60_000,
    pingMs: 30_000,
    allowedOrigins: null
  })
  t.notOk(config.trustsProxy('127.0.0.1', 0), 'no proxy is trusted')
})

t.test('fractional seconds are accepted', async (t) => {
  const config = await startWith({ ...TEST_ENV, CC_LIVE_TTL_SECONDS: '0.5', CC_LIVE_PING_SECONDS: '0.25' })
  t.equal(config.CC_LIVE_TTL_SECONDS, 0.5)
  t.equal(config.CC_LIVE_PING_SECONDS, 0.25)
})

t.test('the variables the service does not know are not kept', async (t) => {
  const config = await startWith({ ...TEST_ENV, HOME: '/root' })
  t.notOk('HOME' in config)
})

t.test('a missing or invalid value stops start-up with a message naming the variable', async (t) => {
  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['no key', { CC_LIVE_API_KEY: undefined }, /^CC_LIVE_API_KEY: required, not set$/],
    ['a short key', { CC_LIVE_API_KEY: 'fifteen-chars!!' }, /^CC_LIVE_API_KEY: must NOT have fewer than 16 characters$/],
    ['a key with a trailing newline', { CC_LIVE_API_KEY: `${TEST_ENV.CC_LIVE_API_KEY}\n` }, /^CC_LIVE_API_KEY: must not contain whitespace/],
    ['a key with a space inside', { CC_LIVE_API_KEY: 'two words-0123456789' }, /^CC_LIVE_API_KEY: must not contain whitespace/],
    ['a key with a quote', { CC_LIVE_API_KEY: '"quoted-key-0123456789"' }, /^CC_LIVE_API_KEY: must be a bearer token \(RFC 6750 b64token\)/],
    ['a port that is not a number', { PORT: 'http' }, /^PORT: must be integer$/],
    ['a port out of range', { PORT: '70000' }, /^PORT: must be <= 65535$/],
    ['a zero ttl', { CC_LIVE_TTL_SECONDS: '0' }, /^CC_LIVE_TTL_SECONDS: must be > 0$/],
    ['a negative ping period', { CC_LIVE_PING_SECONDS: '-1' }, /^CC_LIVE_PING_SECONDS: must be > 0$/],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, /^LOG_LEVEL: must be equal to one of the allowed values$/],
    ['a zero viewer cap', { CC_LIVE_MAX_VIEWERS: '0' }, /^CC_LIVE_MAX_VIEWERS: must be >= 1$/],
    ['a fractional per-address cap', { CC_LIVE_MAX_VIEWERS_PER_IP: '2.5' }, /^CC_LIVE_MAX_VIEWERS_PER_IP: must be integer$/],
    ['a connection cap of one', { CC_LIVE_MAX_CONNECTIONS_PER_IP: '1' }, /^CC_LIVE_MAX_CONNECTIONS_PER_IP: must be >= 2$/],
    ['a connection cap no greater than the viewer cap', { CC_LIVE_MAX_CONNECTIONS_PER_IP: '50' }, /^CC_LIVE_MAX_CONNECTIONS_PER_IP: must be greater than CC_LIVE_MAX_VIEWERS_PER_IP \(50\), as every viewer holds a connection; it is 50$/],
    ['an origin with a path', { CC_LIVE_ALLOWED_ORIGINS: 'https://blog.example/page' }, /CC_LIVE_ALLOWED_ORIGINS: "https:\/\/blog.example\/page" is not an origin/],
    ['an origin without a scheme', { CC_LIVE_ALLOWED_ORIGINS: 'https://ok.example, blog.example' }, /CC_LIVE_ALLOWED_ORIGINS: "blog.example" is not an origin/]
  ]
  for (const [name, change, message] of cases) {
    await t.rejects(startWith({ ...TEST_ENV, ...change }), { name: 'ConfigError', message }, name)
  }
})

t.test('every invalid variable is named at once, each in the same form', async (t) => {
  await t.rejects(startWith({ CC_LIVE_API_KEY: undefined, PORT: 'http', CC_LIVE_TTL_SECONDS: '0' }), {
    name: 'ConfigError',
    message: 'CC_LIVE_API_KEY: required, not set; PORT: must be integer; CC_LIVE_TTL_SECONDS: must be > 0'
  })
})

t.test('the logger takes the configured level', async (t) => {
  const app = buildApp({ env: { ...TEST_ENV, LOG_LEVEL: 'warn' }, logger: { level: 'info' } })
  t.teardown(() => app.close())
  await app.ready()
  t.equal(app.log.level, 'warn')
})
