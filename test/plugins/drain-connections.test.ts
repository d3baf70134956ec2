import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { buildTestApp } from '../helpers/app.js'

t.test('a connection that never sent a request does not hold up close; a viewer still gets 1001', async (t) => {
  const app = await buildTestApp(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = new URL(address)
  const spare = connect(Number(port), '127.0.0.1')
  await once(spare, 'connect')
  const viewer = new WebSocket(`${address.replace('http', 'ws')}/ws/live`)
  await once(viewer, 'message')

  const viewerClosed = once(viewer, 'close')
  const spareClosed = once(spare, 'close')
  await app.close()
  const [code] = await viewerClosed
  t.equal(code, 1001, 'the upgraded connection was closed properly, not cut')
  await spareClosed
  t.pass('the spare connection was closed')
})
