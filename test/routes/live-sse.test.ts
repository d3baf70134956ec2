import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { AUTH, buildTestApp } from '../helpers/app.js'
import { openEventStream } from '../helpers/event-stream.js'

const OFFLINE = '{"active":false,"since":null,"sessions":0}'

async function listen (t: Test, env: Record<string, string> = {}) {
  const app = await buildTestApp(t, { env })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, address }
}

t.test('Accept: text/event-stream gets the state as SSE events: the current one, then each change', async (t) => {
  const { app, address } = await listen(t)
  const stream = await openEventStream(`${address}/ws/live`)
  t.teardown(stream.close)
  t.equal(stream.response.statusCode, 200)
  t.match(stream.response.headers['content-type'], /^text\/event-stream/)
  t.equal(stream.response.headers['cache-control'], 'no-store')
  t.equal(stream.response.headers['access-control-allow-origin'], '*', 'other sites may embed the widget')
  t.equal(await stream.next(), 'retry: 5000')
  t.equal(await stream.next(), `data: ${OFFLINE}`)

  const live = await app.inject({ method: 'POST', url: '/api/live/heartbeat', headers: AUTH })
  t.equal(await stream.next(), `data: ${live.body}`)
  await app.inject({ method: 'POST', url: '/api/live/stop', headers: AUTH })
  t.equal(await stream.next(), `data: ${OFFLINE}`)
  t.equal(app.sseStreams.size, 1)
})

t.test('without that Accept header the same URL still answers with the JSON snapshot', async (t) => {
  const { app } = await listen(t)
  const res = await app.inject({ url: '/ws/live', headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, OFFLINE)
})

t.test('a keepalive comment goes out every ping period', async (t) => {
  const { address } = await listen(t, { CC_LIVE_PING_SECONDS: '0.05' })
  const stream = await openEventStream(`${address}/ws/live`)
  t.teardown(stream.close)
  await stream.next()
  await stream.next()
  t.equal(await stream.next(), ': keepalive')
  t.equal(await stream.next(), ': keepalive')
})

t.test('closing the app ends open streams instead of waiting on them', async (t) => {
  const { app, address } = await listen(t)
  const stream = await openEventStream(`${address}/ws/live`)
  await stream.next()
  await stream.next()
  await app.close()
  t.equal(await stream.next(), null, 'the stream ended')
})

t.test('one serialization per change, shared by WebSocket and SSE viewers', async (t) => {
  const { app, address } = await listen(t)
  const streams = [await openEventStream(`${address}/ws/live`), await openEventStream(`${address}/ws/live`)]
  for (const stream of streams) {
    t.teardown(stream.close)
    await stream.next()
    await stream.next()
  }
  const socket = new WebSocket(`${address.replace('http', 'ws')}/ws/live`)
  t.teardown(() => socket.terminate())
  const messages: string[] = []
  const secondMessage = new Promise<void>((resolve) => socket.on('message', (data) => {
    messages.push(data.toString())
    if (messages.length === 2) resolve()
  }))
  await new Promise((resolve) => socket.once('open', resolve))

  const stringify = t.capture(JSON, 'stringify', JSON.stringify)
  app.liveState.heartbeat('a')
  const calls = stringify().length
  stringify.restore()
  t.equal(calls, 1, 'serialized once for every viewer')
  await secondMessage
  const json = app.liveState.snapshot.json
  t.equal(messages[1], json)
  for (const stream of streams) t.equal(await stream.next(), `data: ${json}`)
})
