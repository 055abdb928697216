import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { BuildSummary } from '../../helpers/archive.js'
import { ferry, ferryJson, initStore } from '../../helpers/cli.js'
import {
  type DaemonStatus,
  daemonStatus,
  heads,
  spawnDaemon,
  waitFor,
  waitForHead,
} from '../../helpers/ferry-daemon.js'
import {
  catMatches,
  MiB,
  MODULE,
  publisherAndSite,
  scatterEdits,
  synced,
  verify,
} from '../../helpers/sync-fixtures.js'

test('B follows demo from A: v1 arrives complete and byte-equal; v2 (1% edited) follows within seconds, moving only what B lacks', async (t) => {
  const {
    a,
    b,
    release: v1,
  } = await publisherAndSite(t, {
    name: 'demo',
    version: '1',
    seed: 'basic',
    files: [
      { name: 'big.bin', size: 6 * MiB + 12_345 },
      { name: 'mid.bin', size: 3 * MiB },
      { name: 'small.bin', size: 700 * 1024 + 3 },
    ],
  })

  // Debug level on A: its API requests are logged, so the test sees that the v2 build went through it.
  const da = await spawnDaemon(a.store, [], { t, env: { FERRY_LOG_LEVEL: 'debug' } })
  const db = await spawnDaemon(b.store, ['--peer', da.addr, '--follow', 'demo'], { t })
  const describe = () => `${da.tail()}\n${db.tail()}`

  await db.waitForLog(synced('demo', '1'), 30_000, 'demo v1 synced on B')
  const h1 = await waitForHead(b.store, 'demo', '1', { describe })
  t.is(h1.root, v1.build.root)
  t.is(h1.seq, v1.build.seq)
  await catMatches(t, b.store, 'demo', v1.files)
  const verify1 = await verify(b.store)
  t.is(verify1.code, 0, `verify B after v1: ${verify1.stdout}${verify1.stderr}`)

  // v2: about 1% of the bytes changed, in small edits scattered over every file.
  const total = v1.files.reduce((sum, f) => sum + f.size, 0)
  const changed = await scatterEdits(v1.files, 24, 4096, 0xd2)
  t.true(changed >= 0.009 * total && changed <= 0.011 * total, `${changed} B of ${total} B edited`)

  // A's daemon owns A's store: this build goes through its API, and A announces v2 to B.
  const started = Date.now()
  const v2 = await ferryJson<BuildSummary>([
    'bom',
    'build',
    await writeRequirementsFor(a.dir, v1.files),
    '--name',
    'demo',
    '--version',
    '2',
    '--store',
    a.store,
  ])
  t.is(v2.seq, 2)
  t.true(
    da.log().some((l) => l.msg === 'api' && String(l.url).startsWith('/api/bom-build') && l.status === 200),
    `A's daemon ran the v2 build\n${da.tail()}`,
  )
  t.true(v2.newBytes < total / 4, `v2 added ${v2.newBytes} B to A (of ${total} B)`)
  const h2 = await waitForHead(b.store, 'demo', '2', { timeoutMs: 20_000, describe })
  t.log(`v2 (${v2.newBytes} new bytes on A) published on B ${Date.now() - started} ms after the build began`)
  t.is(h2.root, v2.root)
  t.deepEqual(
    (await heads(b.store)).map((h) => [h.name, h.version]),
    [['demo', '2']],
  )

  const status = await daemonStatus(b.store)
  const sync2 = status.sync.find((s) => s.name === 'demo' && s.version === '2')
  t.truthy(sync2, `a sync entry for demo v2 in ${JSON.stringify(status.sync)}`)
  t.deepEqual(
    status.sync.filter((s) => s.name === 'demo').map((s) => s.version),
    ['2'],
    'the v1 sync is forgotten once v2 is followed: one entry a head name',
  )
  t.is(sync2?.state, 'complete')
  t.true(
    (sync2?.bytesReceived ?? Number.POSITIVE_INFINITY) <= 1.2 * v2.newBytes,
    `B received ${sync2?.bytesReceived} B for v2; A's build added ${v2.newBytes} B (bound 1.2x)`,
  )
  t.true((sync2?.bytesReceived ?? 0) > 0)
  t.true((sync2?.bytesByPeer[da.peerId] ?? 0) > 0, 'the v2 bytes came from A')

  await catMatches(t, b.store, 'demo', v1.files)
  const verify2 = await verify(b.store)
  t.is(verify2.code, 0, `verify B after v2: ${verify2.stdout}${verify2.stderr}`)

  t.is(await db.stop(), 0)
  t.truthy(db.log().find((l) => l.msg === 'daemon stopped'))
  t.is(await da.stop(), 0)
})

async function writeRequirementsFor(dir: string, files: Array<{ name: string; path: string }>) {
  let yaml = `module: ${MODULE}\nversion: "2"\nfiles:\n`
  for (const f of files) yaml += `  - name: ${f.name}\n    path: ${f.path}\n`
  const path = join(dir, 'demo-2.yaml')
  await writeFile(path, yaml)
  return path
}

test('a daemon started again on the same store keeps its peer ID', async (t) => {
  const { store } = await initStore(t)
  const first = await spawnDaemon(store, [], { t })
  t.regex(first.peerId, /^12D3KooW/)
  t.true(first.addr.endsWith(`/p2p/${first.peerId}`), first.addr)
  t.is((await daemonStatus(store)).peerId, first.peerId)
  t.is(await first.stop(), 0)
  t.truthy(
    first.log().find((l) => l.msg === 'daemon stopped'),
    first.tail(),
  )

  // With no daemon, the CLI opens the store itself again.
  const plain = await ferryJson<DaemonStatus>(['status', '--store', store])
  t.deepEqual(plain.heads, [])

  const second = await spawnDaemon(store, [], { t })
  t.is(second.peerId, first.peerId)
  t.is((await daemonStatus(store)).peerId, first.peerId)
  t.is(await second.stop(), 0)
})

test('ferry peers lists the configured peer as connected; without a daemon it is ERR_DAEMON_UNAVAILABLE', async (t) => {
  const a = await initStore(t)
  const b = await initStore(t)
  const da = await spawnDaemon(a.store, [], { t })
  const db = await spawnDaemon(b.store, ['--peer', da.addr], { t })

  const peer = await waitFor(
    "A connected in B's `ferry peers --json`",
    async () => {
      const peers = await ferryJson<DaemonStatus['peers']>(['peers', '--store', b.store])
      return peers.find((p) => p.id === da.peerId && p.connected)
    },
    { timeoutMs: 15_000, describe: () => db.tail() },
  )
  const port = /\/tcp\/\d+/.exec(da.addr)?.[0] ?? da.addr
  t.true(
    peer.addrs.some((addr) => addr.startsWith(`/ip4/127.0.0.1${port}`)),
    `${JSON.stringify(peer.addrs)} names ${da.addr}`,
  )
  const text = await ferry(['peers', '--store', b.store])
  t.is(text.code, 0, text.stderr)
  t.true(text.stdout.includes(da.peerId), text.stdout)

  t.is(await db.stop(), 0)
  const without = await ferry(['peers', '--store', b.store])
  t.not(without.code, 0)
  t.regex(without.stderr, /ERR_DAEMON_UNAVAILABLE/)
  const withoutJson = await ferry(['peers', '--store', b.store, '--json'])
  t.not(withoutJson.code, 0)
  t.regex(withoutJson.stderr, /ERR_DAEMON_UNAVAILABLE/)
  t.is(await da.stop(), 0)
})

test('a YAML --config with listen, follow, peer and mdns: false runs the daemon; an unknown key is refused by name', async (t) => {
  const {
    a,
    b,
    release: v1,
  } = await publisherAndSite(t, {
    name: 'demo',
    version: '1',
    seed: 'config',
    files: [{ name: 'one.bin', size: 1 * MiB + 77 }],
  })
  const da = await spawnDaemon(a.store, [], { t })

  const config = join(b.dir, 'ferry.yaml')
  await writeFile(
    config,
    `# B's daemon\nlisten:\n  - /ip4/127.0.0.1/tcp/0\nfollow: demo\npeer:\n  - ${da.addr}\nmdns: false\n`,
  )
  // No flags but --config: listen and mdns come from the file.
  const db = await spawnDaemon(b.store, ['--config', config], { t, defaults: false })
  const started = db.log().find((l) => l.msg === 'daemon started')
  t.is(started?.mdns, false)
  t.deepEqual(started?.follow, ['demo'])
  t.deepEqual(started?.peers, [da.addr])
  t.true(
    db.addrs.every((addr) => addr.startsWith('/ip4/127.0.0.1/tcp/')),
    JSON.stringify(db.addrs),
  )
  const h = await waitForHead(b.store, 'demo', '1', { describe: () => `${da.tail()}\n${db.tail()}` })
  t.is(h.root, v1.build.root)
  await catMatches(t, b.store, 'demo', v1.files)
  t.is(await db.stop(), 0)

  const bad = join(b.dir, 'bad.yaml')
  await writeFile(bad, `listen: /ip4/127.0.0.1/tcp/0\nmdns: false\nfollw: demo\n`)
  const refused = await ferry(['daemon', '--config', bad, '--store', b.store], { timeoutMs: 20_000 })
  t.is(refused.signal, null, 'the daemon exits by itself (not killed by the timeout)')
  t.not(refused.code, 0)
  t.regex(refused.stderr, /follw/, refused.stderr)
  t.regex(refused.stderr, /ERR_INVALID_ARGUMENT/, refused.stderr)
  t.false(refused.stdout.includes('daemon started'), refused.stdout)
  t.is(await da.stop(), 0)
})
