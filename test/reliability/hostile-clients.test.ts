import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { ferry, initStore, writeRequirements } from '../helpers/cli.js'
import { type FerryDaemon, socketStatus, spawnDaemon, spawnServingDaemon } from '../helpers/ferry-daemon.js'
import {
  churnGarbage,
  holdGarbageConnections,
  sampleRss,
  sendMalformed,
  slowClients,
  type Target,
} from '../helpers/hostile-clients.js'

const MiB = 1024 * 1024
/** The bounds: RSS under attack, and how much the daemon may log while attacked. */
const MAX_RSS = 200 * MiB
const MAX_LOG_GROWTH = 1 * MiB

/** Bytes the daemon wrote so far: its log lines (stdout) and stderr. */
function logBytes(daemon: FerryDaemon): number {
  return daemon.log().reduce((sum, line) => sum + JSON.stringify(line).length + 1, 0) + daemon.stderr().length
}

/** `ferry status` through the CLI, and GET /api/status straight on the socket, every second until `until` resolves. */
async function keepAsking(
  store: string,
  until: Promise<unknown>,
): Promise<{ asked: number; failures: string[] }> {
  let done = false
  void until.finally(() => {
    done = true
  })
  const tally = { asked: 0, failures: [] as string[] }
  for (let i = 0; i < 60 && !done; i++) {
    const [cli, socket] = await Promise.allSettled([
      i % 3 === 0 ? ferry(['status', '--json', '--store', store], { timeoutMs: 30_000 }) : undefined,
      socketStatus(store, 10_000),
    ])
    tally.asked++
    if (cli.status === 'rejected') tally.failures.push(`ferry status: ${cli.reason}`)
    else if (cli.value !== undefined && cli.value.code !== 0)
      tally.failures.push(`ferry status: exit ${cli.value.code}: ${cli.value.stderr}`)
    if (socket.status === 'rejected') tally.failures.push(`GET /api/status: ${socket.reason}`)
    await sleep(1000)
  }
  return tally
}

test('500 garbage TCP connections to libp2p, slow and malformed HTTP to the API socket and the serving port: status keeps answering, RSS ≤ 200 MiB, the log stays small', async (t) => {
  const { dir, store } = await initStore(t)
  await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'a.txt'), 'hello\n'))
  t.is(
    (await ferry(['bom', 'build', join(dir, 'm.yaml'), '--name', 'rel', '--version', '1', '--store', store]))
      .code,
    0,
  )
  const { daemon, host } = await spawnServingDaemon(store, [], { t })
  const p2pPort = Number(/\/tcp\/(\d+)\//.exec(daemon.addr)?.[1])
  const p2p: Target = { host: '127.0.0.1', port: p2pPort }
  const api: Target = { path: join(store, 'ferry.sock') }
  const serve: Target = { host: host.split(':')[0], port: Number(host.split(':')[1]) }
  const logBefore = logBytes(daemon)
  const rss = sampleRss(daemon.pid)
  const started = Date.now()

  const attack = (async () => {
    const flood = await holdGarbageConnections(p2p, 500, 256)
    const slowApi = await slowClients(api, 100)
    const slowServe = await slowClients(serve, 100)
    const [churn, badApi, badServe] = await Promise.all([
      churnGarbage(p2p, 300, 15_000),
      sendMalformed(api, 3, 15_000),
      sendMalformed(serve, 3, 15_000),
    ])
    // The slow clients go on a little longer than node's timeouts would let a request go unnoticed.
    await sleep(3000)
    const slow = { api: slowApi.closedByServer(), serve: slowServe.closedByServer() }
    for (const held of [flood, slowApi, slowServe]) held.stop()
    return { flood, churn, badApi, badServe, slowApi, slowServe, slow }
  })()
  const [during, figures] = await Promise.all([keepAsking(store, attack), attack])
  const peak = await rss.stop()
  const seconds = (Date.now() - started) / 1000
  const grown = logBytes(daemon) - logBefore

  t.log(
    `attack of ${seconds.toFixed(1)} s: libp2p ${figures.flood.connections} held (${figures.flood.errors} refused) + ${figures.churn.connections} garbage bursts; ` +
      `API socket ${figures.slowApi.connections} slow (${figures.slow.api} closed by the daemon) + ${figures.badApi.connections} malformed; ` +
      `serving port ${figures.slowServe.connections} slow (${figures.slow.serve} closed) + ${figures.badServe.connections} malformed`,
  )
  t.log(`status asked ${during.asked} times during the attack, ${during.failures.length} failed`)
  t.log(`peak RSS ${(peak / MiB).toFixed(1)} MiB; log grew ${grown} bytes`)
  t.true(
    figures.flood.connections >= 100,
    'the flood really reached the libp2p port (the rest refused or reset by it)',
  )
  t.deepEqual(during.failures, [], 'status answered all along')
  t.true(during.asked >= 3, `status asked ${during.asked} times`)
  t.false(daemon.exited, daemon.tail())
  t.true(peak > 0 && peak <= MAX_RSS, `peak RSS ${peak} > ${MAX_RSS}`)
  t.true(grown <= MAX_LOG_GROWTH, `the daemon logged ${grown} bytes during the attack\n${daemon.tail(5)}`)

  // After the attack: status through the CLI, and the store unchanged.
  const after = await ferry(['status', '--json', '--store', store], { timeoutMs: 30_000 })
  t.is(after.code, 0, after.stderr)
  const status = JSON.parse(after.stdout) as { heads: { name: string }[] }
  t.deepEqual(
    status.heads.map((h) => h.name),
    ['rel'],
  )
  t.is(await daemon.stop(), 0)
})

test('slow clients of the API socket (headers or body trickled a byte at a time) are cut within 30 s, and status answers meanwhile', async (t) => {
  const { store } = await initStore(t)
  const daemon = await spawnDaemon(store, [], { t })
  const api: Target = { path: join(store, 'ferry.sock') }
  const headers = await slowClients(api, 50, 500)
  const bodies = await slowClients(
    api,
    50,
    500,
    'POST /api/heads HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n{',
  )
  t.is(headers.connections + bodies.connections, 100)
  const cut = await waitUntil(30_000, () => headers.closedByServer() + bodies.closedByServer() === 100)
  const status = await socketStatus(store, 10_000)
  headers.stop()
  bodies.stop()
  t.log(
    `after ${cut.toFixed(1)} s: ${headers.closedByServer()} slow-header and ${bodies.closedByServer()} slow-body clients cut`,
  )
  t.is(headers.closedByServer(), 50, 'slow headers are cut')
  t.is(bodies.closedByServer(), 50, 'slow bodies are cut')
  t.is(status.peerId, daemon.peerId)
  t.is(await daemon.stop(), 0)
})

/** Polls `done` every 250 ms for at most `ms`; resolves with the seconds it took (or `ms` when it never held). */
async function waitUntil(ms: number, done: () => boolean): Promise<number> {
  const started = Date.now()
  while (!done() && Date.now() - started < ms) await sleep(250)
  return (Date.now() - started) / 1000
}
