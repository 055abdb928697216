import test from 'ava'
import { initStore } from '../../helpers/cli.js'
import { daemonStatus, spawnDaemon, waitForHead } from '../../helpers/ferry-daemon.js'
import {
  buildPseudoRandomRelease,
  buildVersion,
  catMatches,
  MiB,
  scatterEdits,
  synced,
  trustPublisher,
  verify,
} from '../../helpers/sync-fixtures.js'

const FILES = [
  { name: 'app.bin', size: 8 * MiB + 4321 },
  { name: 'lib.bin', size: 3 * MiB },
]

test('a site holding v1 gets v2 (small edits in most chunks) as patches: a fraction of the changed chunks on the wire, every block verified', async (t) => {
  const a = await initStore(t)
  const b = await initStore(t)
  const v1 = await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'app',
    version: '1',
    seed: 'patch-sync',
    files: FILES,
  })
  await trustPublisher(b.store, a.store)
  const da = await spawnDaemon(a.store, [], { t })
  const db = await spawnDaemon(b.store, ['--peer', da.addr, '--follow', 'app'], { t })
  await db.waitForLog(synced('app', '1'), 60_000, 'app v1 synced on B')

  // 400 edits of 16 bytes over 11 MiB: nearly every 64 KiB chunk changes.
  await scatterEdits(v1.files, 400, 16, 0x5eed)
  const v2 = await buildVersion(a.dir, a.store, 'app', '2', v1.files)
  t.true(v2.newBytes > 0.7 * (11 * MiB), `most chunks changed: ${v2.newBytes} new bytes`)
  const h2 = await waitForHead(b.store, 'app', '2', { timeoutMs: 60_000, describe: () => db.tail() })
  t.is(h2.root, v2.root)

  const sync = (await daemonStatus(b.store)).sync.find((s) => s.name === 'app' && s.version === '2')
  t.is(sync?.state, 'complete')
  t.log(
    `v2: ${v2.newBytes} B of new chunks; received ${sync?.bytesReceived} B, ${sync?.patchedBlocks} blocks as patches expanding to ${sync?.patchedBytes} B`,
  )
  t.true((sync?.patchedBlocks ?? 0) > 0, 'changed chunks came as patches')
  t.true((sync?.patchedBytes ?? 0) > 0.5 * v2.newBytes, 'most of the new bytes came as patches')
  t.true(
    (sync?.bytesReceived ?? Number.POSITIVE_INFINITY) < v2.newBytes / 10,
    `received ${sync?.bytesReceived} B for ${v2.newBytes} B of new chunks`,
  )
  await catMatches(t, b.store, 'app', v1.files)
  const verified = await verify(b.store)
  t.is(verified.code, 0, `verify B: ${verified.stdout}${verified.stderr}`)
})

test('mixed versions: a 1.0.0-only peer (--no-patches) syncs from a patching one and serves one, with blocks both ways', async (t) => {
  const a = await initStore(t)
  const b = await initStore(t)
  const c = await initStore(t)
  const v1 = await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'mix',
    version: '1',
    seed: 'mixed',
    files: FILES,
  })
  await trustPublisher(b.store, a.store)
  await trustPublisher(c.store, a.store)
  const da = await spawnDaemon(a.store, [], { t })
  // B speaks 1.0.0 only: it asks A (who speaks both) for blocks, and answers C (who asks 1.1.0 first) with blocks.
  const db = await spawnDaemon(b.store, ['--peer', da.addr, '--follow', 'mix', '--no-patches'], { t })
  await db.waitForLog(synced('mix', '1'), 60_000, 'mix v1 synced on B')
  const dc = await spawnDaemon(c.store, ['--peer', db.addr, '--follow', 'mix'], { t })
  await dc.waitForLog(synced('mix', '1'), 60_000, 'mix v1 synced on C')

  await scatterEdits(v1.files, 400, 16, 0x5eee)
  const v2 = await buildVersion(a.dir, a.store, 'mix', '2', v1.files)
  await waitForHead(b.store, 'mix', '2', { timeoutMs: 60_000, describe: () => db.tail() })
  await waitForHead(c.store, 'mix', '2', { timeoutMs: 60_000, describe: () => dc.tail() })
  for (const [store, who] of [
    [b.store, 'B (1.0.0 only) from A'],
    [c.store, 'C from B (1.0.0 only)'],
  ]) {
    const sync = (await daemonStatus(store)).sync.find((s) => s.name === 'mix' && s.version === '2')
    t.is(sync?.state, 'complete', who)
    t.is(sync?.patchedBlocks, 0, `${who}: no patches`)
    t.true(
      (sync?.bytesReceived ?? 0) >= v2.newBytes * 0.95,
      `${who}: whole chunks (${sync?.bytesReceived} B)`,
    )
    await catMatches(t, store, 'mix', v1.files)
    t.is((await verify(store)).code, 0, `verify ${who}`)
  }
})
