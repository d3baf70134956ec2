import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import t from 'tap'
import { compileProxyTrust } from '../../src/access/proxy-trust.ts'
import { buildApp } from '../../src/app.ts'
import { configSchema, splitList } from '../../src/config.ts'
import { TEST_ENV } from '../helpers/app.ts'
import { loadCompose, traefikRouters, traefikServicePort } from '../helpers/compose.ts'
import { contextIgnores, copyPaths, execArguments, instructionsOf, parseContainerfile, stageEnvironment, stageNamed } from '../helpers/containerfile.ts'
import { servedRoutes } from '../helpers/served-routes.ts'

// Proves, without a container engine, that compose.yaml and the Containerfile fit the service as built.
const compose = loadCompose('compose.yaml')
const stages = parseContainerfile('Containerfile')
const runtime = stageNamed(stages, 'runtime')
const build = stageNamed(stages, 'build')
const routers = traefikRouters(compose)
const ccLive = compose.services['cc-live'] ?? {}
const ccLiveRouters = routers.filter((router) => router.container === 'cc-live')
const HEALTH_PATH = '/healthz'

/** Where a dist/ path the image runs was compiled from. */
const sourceOf = (compiled: string): string => compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts')

t.test('every route but the health check is behind a cc-live router, and each router serves something', async (t) => {
  const routes = await servedRoutes()
  t.ok(routes.some(({ url }) => url === HEALTH_PATH), 'the health route exists')
  const behind = (url: string): boolean => ccLiveRouters.some(({ prefix }) => url.startsWith(prefix))
  for (const { method, url } of routes) {
    if (url === HEALTH_PATH) t.notOk(behind(url), `${url} is for the container healthcheck only, not routed to cc-live`)
    else t.ok(behind(url), `${method} ${url} is reachable through Traefik`)
  }
  t.same(ccLiveRouters.map(({ prefix }) => prefix).sort(), ['/api/live', '/ws/live'])
  for (const { name, prefix } of ccLiveRouters) {
    t.ok(routes.some(({ url }) => url.startsWith(prefix)), `router ${name} (${prefix}) reaches a route`)
  }
})

t.test('cc-live routers forward to the port the service listens on; the blog takes the rest at lower priority', async (t) => {
  const [exposed] = instructionsOf(runtime, 'EXPOSE').map(({ rest }) => Number(rest))
  t.equal(exposed, configSchema.properties.PORT.default, 'the image exposes the default port')
  t.equal(Number(ccLive.environment?.PORT), exposed, 'compose pins PORT to it')
  t.same(ccLive.ports, [`${exposed}:${exposed}`], 'and publishes it for the laptop')
  for (const router of ccLiveRouters) {
    t.equal(traefikServicePort(compose, router.service), exposed, `router ${router.name} forwards to ${exposed}`)
  }

  const blogRouters = routers.filter((router) => router.container === 'blog')
  t.same(blogRouters.map(({ prefix }) => prefix), ['/'], 'the blog catches every path')
  for (const blog of blogRouters) {
    t.equal(traefikServicePort(compose, blog.service), 80, 'on the port nginx listens on')
    for (const router of ccLiveRouters) t.ok(blog.priority < router.priority, `${router.name} wins over the catch-all`)
  }

  const traefik = compose.services.traefik ?? {}
  t.match(traefik.image, /^traefik:v3\./)
  t.ok(traefik.command?.includes('--providers.docker.exposedbydefault=false'), 'only labelled containers are routed')
  for (const { container } of routers) t.equal(compose.services[container]?.labels?.['traefik.enable'], 'true')
})

t.test('settings: .env feeds cc-live, .env.example documents exactly the schema, compose overrides are valid', async (t) => {
  const documented = readFileSync('.env.example', 'utf8').split('\n').flatMap((line) => /^([A-Z_]+)=/.exec(line)?.[1] ?? [])
  t.same(documented.sort(), Object.keys(configSchema.properties).sort())
  t.equal(ccLive.env_file, '.env')
  t.ok(readFileSync('.gitignore', 'utf8').split('\n').includes('.env'), '.env is never committed')

  const overrides = ccLive.environment ?? {}
  for (const name of Object.keys(overrides)) t.ok(name in configSchema.properties, `${name} is a setting the service reads`)
  const app = buildApp({ env: { ...TEST_ENV, ...overrides } })
  t.teardown(() => app.close())
  await app.ready()

  const traefikNetworks = compose.services.traefik?.networks
  const traefikAddress = Array.isArray(traefikNetworks) ? '' : traefikNetworks?.web?.ipv4_address ?? ''
  const subnet = compose.networks.web?.ipam?.config[0]?.subnet ?? ''
  t.ok(compileProxyTrust(splitList(subnet))(traefikAddress, 0), `Traefik has a fixed address, ${traefikAddress}, in ${subnet}`)
  t.ok(app.config.trustsProxy(traefikAddress, 0), 'cc-live believes Traefik')
  const gateway = subnet.replace(/\.0\/\d+$/, '.1')
  t.notOk(app.config.trustsProxy(gateway, 0), `but not the gateway ${gateway}, where published-port traffic can come from`)
})

t.test('the compose healthcheck runs the image\'s probe, and the image runs what the build compiles', async (t) => {
  const [healthcheck] = instructionsOf(runtime, 'HEALTHCHECK').map(({ rest }) => execArguments(rest))
  t.same(ccLive.healthcheck?.test, ['CMD', ...healthcheck ?? []])
  const [command] = instructionsOf(runtime, 'CMD').map(({ rest }) => execArguments(rest))
  t.equal(command?.[0], 'node', 'exec form, node itself as PID 1')
  const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string, scripts: Record<string, string> }
  t.equal(command?.[1], packageJson.main)
  t.equal(packageJson.scripts.start, `node ${packageJson.main}`)
  for (const script of [command?.[1], healthcheck?.[1]]) t.ok(existsSync(sourceOf(script ?? '')), `${script} is compiled from a source file`)
  t.ok(instructionsOf(runtime, 'USER').some(({ rest }) => rest !== 'root' && rest !== '0'), 'runs unprivileged')
})

t.test('every path the Containerfile copies exists, is in the build context, and the build stage makes dist', async (t) => {
  const ignored = contextIgnores('.containerignore')
  for (const stage of stages) {
    for (const copy of instructionsOf(stage, 'COPY').filter(({ flags }) => flags.from === undefined)) {
      for (const source of copyPaths(copy).sources) {
        t.ok(existsSync(source), `${stage.name}: ${source} exists`)
        t.notOk(ignored(source), `${stage.name}: ${source} is in the build context`)
      }
    }
  }
  // Every project `npm run build` compiles, the config it extends and every folder it includes.
  const buildScript = JSON.parse(readFileSync('package.json', 'utf8')).scripts.build as string
  const projects = [...buildScript.matchAll(/-p\s+(\S+)/g)].map((match) => match[1] ?? '')
  const copiedToBuild = instructionsOf(build, 'COPY').flatMap((copy) => copyPaths(copy).sources)
  for (const project of projects) {
    const config = JSON.parse(readFileSync(project, 'utf8')) as { extends?: string, include: string[] }
    const needed = [project, ...(config.extends ? [config.extends.replace(/^\.\//, '')] : []), ...config.include]
    for (const source of needed) t.ok(copiedToBuild.includes(source), `build stage has ${source}`)
  }
  t.ok(instructionsOf(build, 'RUN').some(({ rest }) => rest === 'npm run build'))

  const tsconfig = JSON.parse(readFileSync('tsconfig.json', 'utf8')) as { compilerOptions: { outDir: string } }
  const [buildDir] = instructionsOf(build, 'WORKDIR').map(({ rest }) => rest)
  const fromBuild = instructionsOf(runtime, 'COPY').filter(({ flags }) => flags.from === 'build').map(copyPaths)
  t.same(fromBuild, [{ sources: [`${buildDir}/${tsconfig.compilerOptions.outDir}`], destination: `./${tsconfig.compilerOptions.outDir}` }])

  for (const secretOrBulk of ['.env', 'node_modules', 'dist', '.git', 'test']) t.ok(ignored(secretOrBulk), `${secretOrBulk} stays out of the context`)
  t.ok(lstatSync('.dockerignore').isSymbolicLink() && readlinkSync('.dockerignore') === '.containerignore', 'Docker reads the same list')
})

t.test('the blog page embeds the live-status element from a path routed to cc-live', async (t) => {
  const blog = compose.services.blog ?? {}
  t.match(blog.image, /^nginx:/)
  const [root] = (blog.volumes ?? []).map((volume) => volume.split(':')[0] ?? '')
  const page = readFileSync(`${root}/index.html`, 'utf8')
  const script = /<script type="module" src="([^"]+)"><\/script>/.exec(page)?.[1] ?? ''
  t.ok(ccLiveRouters.some(({ prefix }) => script.startsWith(prefix)), `${script} is served by cc-live`)
  t.match(page, /<cc-live-status><\/cc-live-status>/)
})

t.test('the state file is on a volume the image prepares and compose keeps', async (t) => {
  const stateFile = stageEnvironment(runtime).CC_LIVE_STATE_FILE ?? ''
  t.match(stateFile, /^\/.+\.json$/, 'the image sets CC_LIVE_STATE_FILE')
  const volumeDir = dirname(stateFile)
  t.same(instructionsOf(runtime, 'VOLUME').map(({ rest }) => rest), [volumeDir], 'declared as the image\'s volume')
  t.ok(instructionsOf(runtime, 'RUN').some(({ rest }) => rest.includes(`chown node:node ${volumeDir}`)), 'owned by the user the service runs as')
  const mount = (ccLive.volumes ?? []).map((volume) => volume.split(':')).find(([, target]) => target === volumeDir)
  t.ok(mount, 'compose mounts a volume there')
  t.ok(compose.volumes !== undefined && (mount?.[0] ?? '') in compose.volumes, 'a named volume, kept across rebuilds')
})

t.test('one Node.js major everywhere: engines, the node and @types/node packages, .nvmrc, the image, and this test run', async (t) => {
  const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
    engines: { node: string }, devDependencies: Record<string, string>, allowScripts: Record<string, boolean>
  }
  const major = (range: string | undefined): number => Number(/(\d+)/.exec(range ?? '')?.[1])
  const expected = major(packageJson.engines.node)
  t.ok(expected >= 26, `engines names a supported major (${packageJson.engines.node})`)
  t.equal(major(packageJson.devDependencies.node), expected, 'the node devDependency, which npm scripts run on')
  t.equal(major(packageJson.devDependencies['@types/node']), expected, '@types/node')
  t.equal(major(readFileSync('.nvmrc', 'utf8')), expected, '.nvmrc, for version managers')
  t.equal(packageJson.allowScripts.node, true, 'the node package\'s install script is allowed: it fetches the binary')
  for (const stage of stages) t.equal(major(stage.image.split(':')[1]), expected, `the ${stage.name} stage's image`)
  t.equal(major(process.versions.node), expected, `the suite itself runs on it (${process.version})`)
})
