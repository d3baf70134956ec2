import { buildApp } from '../../src/app.ts'
import { TEST_ENV } from './app.ts'

/** Every method and URL the app serves, as registered. */
export async function servedRoutes (): Promise<Array<{ method: string, url: string }>> {
  const app = buildApp({ env: TEST_ENV })
  const routes: Array<{ method: string, url: string }> = []
  app.addHook('onRoute', ({ method, url }) => {
    for (const one of [method].flat()) if (one !== 'HEAD') routes.push({ method: one, url })
  })
  await app.ready()
  await app.close()
  return routes
}
