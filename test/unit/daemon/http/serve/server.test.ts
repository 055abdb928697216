import { writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import test from 'ava'
import { startServing } from '../../../../../daemon/http/serve/index.js'
import { SERVE_ROUTES } from '../../../../../daemon/http/serve/routes.js'
import type { DaemonStatus } from '../../../../../daemon/ops/types.js'
import { createLogger } from '../../../../../daemon/runtime/logger.js'
import { buildBom } from '../../../../../store/index.js'
import { READ_BUDGET_RUNS } from '../../../../../store/ingest/pipeline.js'
import { pseudoRandom } from '../../../../helpers/cli.js'
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

test('every read token comes back after whole, ranged and cut responses', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const bytes = pseudoRandom(4 * 1024 * 1024, 'tokens')
  await writeFile(join(dir, 'f.bin'), bytes)
  await writeFile(join(dir, 'r.yaml'), 'module: m\nversion: "1"\nfiles:\n  - name: f.bin\n    path: f.bin\n')
  await buildBom(store, [join(dir, 'r.yaml')], { name: 'rel', version: '1' })
  const server = await startServing(
    { store, log: createLogger('silent'), status: async () => ({}) as DaemonStatus },
    { host: '127.0.0.1', port: 0 },
    SERVE_ROUTES,
  )
  t.teardown(() => server.close())
  const url = `http://${server.address}/files/rel/m/f.bin`
  const whole = await Promise.all(Array.from({ length: 6 }, () => fetch(url).then((r) => r.arrayBuffer())))
  for (const got of whole) t.is(Buffer.compare(Buffer.from(got), bytes), 0)
  const ranged = await fetch(url, { headers: { range: 'bytes=1000000-2999999' } })
  t.is(Buffer.compare(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(1_000_000, 3_000_000)), 0)
  // Clients that go away after the first bytes.
  for (let i = 0; i < 6; i++) {
    const controller = new AbortController()
    const response = await fetch(url, { signal: controller.signal })
    const reader = response.body?.getReader()
    await reader?.read()
    controller.abort()
  }
  await new Promise((r) => setTimeout(r, 300))
  let free = 0
  while (store.pipeline.readBudget.available()) {
    await store.pipeline.readBudget.acquire()
    free++
  }
  t.is(free, READ_BUDGET_RUNS)
})
