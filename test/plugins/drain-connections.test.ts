import { once } from 'node:events'
import { type AddressInfo, connect } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { HTTP_TIMEOUTS } from '../../src/app.ts'
import { AUTH, buildTestApp } from '../helpers/app.ts'

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

t.test('a request still incomplete after the grace is cut without an answer, so close() ends; a viewer still gets 1001', async (t) => {
  const app = await buildTestApp(t, { httpTimeouts: { ...HTTP_TIMEOUTS, shutdownGraceMs: 100 } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const viewer = new WebSocket(`${address.replace('http', 'ws')}/ws/live`)
  await once(viewer, 'message')
  const viewerClosed = once(viewer, 'close')

  const dribbler = connect((app.server.address() as AddressInfo).port, '127.0.0.1')
  await once(dribbler, 'connect')
  let answer = ''
  dribbler.on('data', (chunk) => { answer += String(chunk) })
  dribbler.on('error', () => {})
  const dribblerClosed = new Promise((resolve) => dribbler.once('close', resolve))
  const received = once(app.server, 'request')
  dribbler.write(`POST /api/live/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{`)
  const dribbling = setInterval(() => { if (dribbler.writable) dribbler.write(' ') }, 10)
  t.teardown(() => clearInterval(dribbling))
  await received

  await app.close()
  await dribblerClosed
  t.equal(answer, '', 'cut without an answer')
  const [code] = await viewerClosed
  t.equal(code, 1001)
  t.equal(app.liveState.snapshot.state.sessions, 0, 'the half-sent heartbeat changed nothing')
})
