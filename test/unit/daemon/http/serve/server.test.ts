import { connect, type Socket } from 'node:net'
import test from 'ava'
import { startServing } from '../../../../../daemon/http/serve/index.js'
import { SERVE_ROUTES } from '../../../../../daemon/http/serve/routes.js'
import type { DaemonStatus } from '../../../../../daemon/ops/types.js'
import { createLogger } from '../../../../../daemon/runtime/logger.js'
import { newStore, testDir } from '../../../../helpers/store.js'

function open(address: string): Promise<Socket> {
  const [host, port] = address.split(':')
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => resolve(socket))
    socket.once('error', reject)
  })
}

const closed = (socket: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(true)
    const timer = setTimeout(() => resolve(false), ms)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

test('the serving port bounds connections and closes idle ones', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const server = await startServing(
    { store, log: createLogger('silent'), status: async () => ({}) as DaemonStatus },
    { host: '127.0.0.1', port: 0, maxConnections: 2, idleTimeoutMs: 300 },
    SERVE_ROUTES,
  )
  t.teardown(() => server.close())
  const a = await open(server.address)
  const b = await open(server.address)
  const c = await open(server.address)
  t.true(await closed(c, 2_000), 'a third connection is refused')
  t.false(a.destroyed)
  // Sending nothing: closed after the idle timeout.
  t.true(await closed(a, 3_000), 'an idle connection is closed')
  t.true(await closed(b, 3_000))
})
