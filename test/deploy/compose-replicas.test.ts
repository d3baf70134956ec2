import t from 'tap'
import { compileProxyTrust } from '../../src/access/proxy-trust.ts'
import { configSchema, splitList } from '../../src/config.ts'
import { parseRedisSettings } from '../../src/redis/settings.ts'
import { loadCompose, traefikRouters, traefikServicePort } from '../helpers/compose.ts'
import { servedRoutes } from '../helpers/served-routes.ts'

// Proves, without a container engine, that compose.replicas.yaml runs the service as replicas on
// Valkey behind Traefik, and that compose.yaml stays the single-replica default.
const single = loadCompose('compose.yaml')
const replicas = loadCompose('compose.replicas.yaml')
const ccLive = replicas.services['cc-live'] ?? {}
const valkey = replicas.services.valkey ?? {}
const traefik = replicas.services.traefik ?? {}
const labels = ccLive.labels ?? {}
const routers = traefikRouters(replicas)
const entrypoints = (router: string) => splitList(replicas.services[routers.find(({ name }) => name === router)?.container ?? '']?.labels?.[`traefik.http.routers.${router}.entrypoints`] ?? '')

t.test('compose.yaml stays one replica on its state file, with nothing else to run', async (t) => {
  t.notOk('valkey' in single.services, 'no Redis or Valkey beside it')
  t.equal(single.services['cc-live']?.deploy?.replicas, undefined, 'one replica')
  t.notOk('CC_LIVE_REDIS_URL' in (single.services['cc-live']?.environment ?? {}), 'the embedded state')
})

t.test('two replicas of the same image, on Valkey, each checked by the image\'s probe', async (t) => {
  t.equal(ccLive.deploy?.replicas, 2)
  t.same(ccLive.build, single.services['cc-live']?.build, 'built as in compose.yaml')
  t.same(ccLive.healthcheck, single.services['cc-live']?.healthcheck, 'the same healthcheck')
  t.equal(ccLive.env_file, '.env')
  const environment = ccLive.environment ?? {}
  for (const name of Object.keys(environment)) t.ok(name in configSchema.properties, `${name} is a setting the service reads`)
  const settings = parseRedisSettings(environment.CC_LIVE_REDIS_URL ?? '', '', 'cc-live:')
  t.equal(settings?.endpoint, 'redis://valkey:6379', 'CC_LIVE_REDIS_URL names the valkey service')
  t.equal(environment.CC_LIVE_STATE_FILE, '', 'the image\'s state file is turned off: Valkey keeps the state')
  t.equal(ccLive.ports, undefined, 'no published port: replicas cannot share one; Traefik takes 8080')
  t.same(ccLive.depends_on, { valkey: { condition: 'service_healthy' } }, 'started once Valkey answers')
})

t.test('Valkey keeps its data in an append-only file on a named volume, and has a healthcheck', async (t) => {
  t.match(valkey.image, /^valkey\/valkey:8/)
  const command = valkey.command ?? []
  t.equal(command[command.indexOf('--appendonly') + 1], 'yes', 'AOF on')
  const [volume, target] = (valkey.volumes?.[0] ?? '').split(':')
  t.equal(target, '/data', 'where the image keeps its files')
  t.ok(replicas.volumes !== undefined && (volume ?? '') in replicas.volumes, 'a named volume, kept across restarts')
  t.same(valkey.healthcheck?.test, ['CMD', 'valkey-cli', 'ping'])
})

t.test('Traefik spreads every cc-live route over the replicas, with no sticky sessions', async (t) => {
  const routes = await servedRoutes()
  const ccLiveRouters = routers.filter(({ container }) => container === 'cc-live')
  t.same(ccLiveRouters.map(({ prefix }) => prefix).sort(), traefikRouters(single).filter(({ container }) => container === 'cc-live').map(({ prefix }) => prefix).sort(),
    'the same prefixes as compose.yaml')
  for (const { method, url } of routes) {
    if (url === '/healthz') continue
    t.ok(ccLiveRouters.some(({ prefix }) => url.startsWith(prefix)), `${method} ${url} is reachable through Traefik`)
  }
  for (const router of ccLiveRouters) t.equal(traefikServicePort(replicas, router.service), 8080)
  t.same(Object.keys(labels).filter((label) => /sticky/i.test(label)), [], 'no sticky cookie: any replica serves any viewer')

  t.ok(traefik.command?.includes('--entrypoints.private.address=:8080'), 'Traefik takes the laptop\'s port')
  t.ok(traefik.ports?.includes('8080:8080'), 'and publishes it')
  t.same(entrypoints('cc-live-api'), ['web', 'private'], 'the private API on both entry points')
  t.same(entrypoints('cc-live-ws'), ['web'], 'viewers only on the public one')
  t.same(entrypoints('blog'), ['web'])
})

t.test('cc-live believes X-Forwarded-For from this stack\'s Traefik only', async (t) => {
  const networks = traefik.networks
  const address = Array.isArray(networks) ? '' : networks?.web?.ipv4_address ?? ''
  const subnet = replicas.networks.web?.ipam?.config[0]?.subnet ?? ''
  t.ok(compileProxyTrust(splitList(subnet))(address, 0), `Traefik has a fixed address, ${address}, in ${subnet}`)
  const trusts = compileProxyTrust(splitList(ccLive.environment?.CC_LIVE_TRUST_PROXY ?? ''))
  t.ok(trusts(address, 0), 'cc-live believes Traefik')
  t.notOk(trusts(subnet.replace(/\.0\/\d+$/, '.1'), 0), 'but not the gateway')
})
