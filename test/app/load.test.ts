import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type WebSocket from 'ws'
import { parseSessions } from '../../src/state-file/format.ts'
import { AUTH, buildListeningTestApp } from '../helpers/app.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { wsUrl } from '../helpers/viewer.ts'
import type { LiveState } from '../../src/live/state.ts'
import { WorkerCrowd } from '../helpers/worker-crowd.ts'

const VIEWERS = 2000
const REQUESTS = 300
const POSTING_AT_ONCE = 8

// Bounded by events, not by time; under a loaded machine it can outlast tap's default 30 s.
t.setTimeout(180_000)

// tap starts test files without --expose-gc; this turns it on and fetches the function.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** This thread's heap (the server's), after collecting garbage. */
function heapAfterGc (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** A crowd of viewers in a worker thread; see test/helpers/viewer-swarm.ts. */
class Swarm extends WorkerCrowd {
  constructor (app: FastifyInstance, count: number) {
    super(new URL('../helpers/viewer-swarm.ts', import.meta.url), { url: wsUrl(app), count, connectingAtOnce: 200 })
  }

  async delivered (expect: number, final: string) {
    return await this.ask({ expect, final }) as { wrongCount: number, wrongLast: number }
  }
}

t.test(`${VIEWERS} viewers on a real socket, ${REQUESTS} rapid requests: every viewer ends on the server's state, memory returns`, { timeout: 120_000 }, async (t) => {
  const statePath = join(await tempDir(t), 'state.json')
  const app = await buildListeningTestApp(t, { env: { CC_LIVE_MAX_VIEWERS_PER_IP: String(VIEWERS), CC_LIVE_MAX_CONNECTIONS_PER_IP: String(VIEWERS + 100), CC_LIVE_STATE_FILE: statePath } })
  const serverSide = new Set<WebSocket>()
  app.websocketServer.on('connection', (socket: WebSocket) => {
    serverSide.add(socket)
    socket.once('close', () => serverSide.delete(socket))
  })
  const allReleased = () => Promise.all([...serverSide].map((socket) => once(socket, 'close')))
  const { port } = app.server.address() as { port: number }
  const post = (url: string, sessionId: string) => fetch(`http://127.0.0.1:${port}${url}`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: sessionId })
  }).then((res) => res.arrayBuffer())

  // Heartbeats and stops of ten overlapping sessions, several in flight at once: about a
  // third change the public state, the rest only move a deadline, as in real traffic.
  const traffic = async () => {
    for (let i = 0; i < REQUESTS; i += POSTING_AT_ONCE) {
      await Promise.all(Array.from({ length: POSTING_AT_ONCE }, (_, j) =>
        post((i + j) % 6 === 5 ? '/api/live/stop' : '/api/live/heartbeat', `s${(i + j) % 10}`)))
    }
  }

  // Warm every path up first: the traffic alone, then a crowd of the same size (compiled
  // code, pools, the capacity of the viewer maps), so that what the measured crowd leaves
  // behind is what a crowd costs for good.
  await traffic()
  app.liveState.stop()
  const warmUp = new Swarm(app, VIEWERS)
  await warmUp.connected()
  await post('/api/live/heartbeat', 'warm-up')
  await post('/api/live/stop', 'warm-up')
  await warmUp.delivered(3, app.liveState.snapshot.json)
  const warmUpReleased = allReleased()
  await warmUp.leave()
  await warmUpReleased
  const baseline = heapAfterGc()

  const startedAt = Date.now()
  const swarm = new Swarm(app, VIEWERS)
  await swarm.connected()
  const connectedAt = Date.now()
  t.equal(app.viewers.size, VIEWERS, 'all connected')

  let publicChanges = 0
  app.liveState.onChange(() => { publicChanges++ })
  await traffic()
  const expected = 1 + publicChanges
  const final = app.liveState.snapshot.json
  const { wrongCount, wrongLast } = await swarm.delivered(expected, final)
  const deliveredAt = Date.now()
  const peak = process.memoryUsage().heapUsed

  t.ok(publicChanges >= REQUESTS / 4, `${publicChanges} public changes from ${REQUESTS} requests`)
  t.equal(wrongCount, 0, `every viewer got exactly ${expected} messages`)
  t.equal(wrongLast, 0, `every viewer's last message is the server's state ${final}`)
  t.equal(app.viewers.size, VIEWERS, 'no viewer was cut')
  const record = (app.liveState as LiveState).toRecord()

  const released = allReleased()
  await swarm.leave()
  await released
  t.equal(app.viewers.size, 0, 'every viewer left the set')
  const after = heapAfterGc()
  t.comment(`connect ${VIEWERS}: ${connectedAt - startedAt} ms; ${REQUESTS} requests, delivered to all: ${deliveredAt - connectedAt} ms`)
  t.comment(`server heap after gc: ${MiB(baseline)} before, ${MiB(peak)} at peak (no gc), ${MiB(after)} after they left`)
  // A viewer holds about 12 KiB of server heap; 2 MiB left over would be 1 KiB a viewer.
  t.ok(after - baseline < 2 * 1024 * 1024, `heap back within 2 MiB of its start (${MiB(after - baseline)} more)`)

  await app.close()
  t.same(parseSessions(await readFile(statePath, 'utf8'), Date.now()), record, 'the state file holds the last state, however rapid the changes')
})
