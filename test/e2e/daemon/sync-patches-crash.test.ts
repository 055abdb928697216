/*
 * kill -9 during a patched sync (issue 16): the site keeps v1 published and sound, keeps the v2 blocks
 * it had made durable, and after a restart receives only the rest, again as patches.
 */
import { copyFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { ferryJson } from '../../helpers/cli.js'
import {
  type DaemonStatus,
  daemonStatus,
  type FerryDaemon,
  type SyncStatus,
  socketStatus,
  spawnDaemon,
  waitForHead,
} from '../../helpers/ferry-daemon.js'
import {
  buildVersion,
  catMatches,
  MiB,
  publisherAndSite,
  type SourceFile,
  scatterEdits,
  synced,
  verify,
} from '../../helpers/sync-fixtures.js'

/**
 * Polls the daemon's API on its socket until the sync of `name` `version` has between `low` and
 * `high` of `total` blocks, some of them as patches; returns that sync state, or undefined (with the
 * last count seen) when it got past `high` or finished first.
 */
async function catchMidPatchedSync(
  daemon: FerryDaemon,
  name: string,
  version: string,
  total: number,
  low: number,
  high: number,
): Promise<{ state?: SyncStatus; seen: number }> {
  let seen = 0
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && !daemon.exited) {
    const sync = (await socketStatus(daemon.storeDir).catch(() => undefined))?.sync.find(
      (s) => s.name === name && s.version === version,
    )
    seen = sync?.haveBlocks ?? seen
    if (sync?.state === 'complete' || seen > high * total) break
    if (seen >= low * total && (sync?.patchedBlocks ?? 0) > 0) return { state: sync, seen }
    await sleep(5)
  }
  return { seen }
}

test('SIGKILL during a patched sync: v1 stays the head and sound; after a restart v2 completes, and only the rest travels', async (t) => {
  const { a, b, release } = await publisherAndSite(t, {
    name: 'app',
    version: '1',
    seed: 'patch-crash',
    files: [
      { name: 'big.bin', size: 96 * MiB + 4321 },
      { name: 'small.bin', size: 16 * MiB },
    ],
  })
  // v1's sources, kept: v2 is made by editing them in place.
  const v1Files: SourceFile[] = []
  for (const f of release.files) {
    const path = `${f.path}.v1`
    await copyFile(f.path, path)
    v1Files.push({ ...f, path })
  }

  const da = await spawnDaemon(a.store, [], { t })
  const args = ['--peer', da.addr, '--follow', 'app']
  const first = await spawnDaemon(b.store, args, { t })
  await first.waitForLog(synced('app', '1'), 60_000, 'app v1 synced on B')
  const blocksV1 = (await daemonStatus(b.store)).store.blocks

  // One 16-byte edit every ~24 KiB: nearly every chunk changes, and travels as a patch against v1.
  const total = release.files.reduce((sum, f) => sum + f.size, 0)
  await scatterEdits(release.files, Math.round(total / (24 * 1024)), 16, 0xc7a5)
  const v2 = await buildVersion(a.dir, a.store, 'app', '2', release.files)
  const N = v2.newBlocks
  t.true(v2.newBytes > 0.8 * total, `most chunks changed: ${v2.newBytes} of ${total} B are new`)

  // B follows A: it starts on v2 at once. SIGKILL it between ~20% and ~70% of v2's new blocks.
  const { state: atKill, seen } = await catchMidPatchedSync(first, 'app', '2', N, 0.2, 0.7)
  await first.kill()
  t.truthy(
    atKill,
    `B should be caught mid-sync (20%..70% of ${N} blocks); last haveBlocks ${seen}\n${first.tail()}`,
  )
  if (atKill === undefined) return
  t.is(first.process.signalCode, 'SIGKILL')
  t.log(
    `B killed at ${atKill.haveBlocks} of ${N} blocks (${atKill.patchedBlocks} as patches, ${atKill.bytesReceived} B received)`,
  )

  // No daemon: the CLI opens the store itself. v1 is the head, v2 is not published.
  const afterKill = await ferryJson<DaemonStatus>(['status', '--store', b.store])
  t.deepEqual(
    afterKill.heads.map((h) => [h.name, h.version, h.root, h.complete]),
    [['app', '1', release.build.root, true]],
    'v1 is the only head, complete; v2 is not published',
  )
  const durable = afterKill.store.blocks - blocksV1
  t.log(`durable after the kill: ${durable} of ${N} v2 blocks`)
  t.true(durable > 0 && durable < N, `some, not all, of v2's blocks are durable: ${durable} of ${N}`)
  const verifiedAfterKill = await verify(b.store)
  t.is(
    verifiedAfterKill.code,
    0,
    `verify B after the kill: ${verifiedAfterKill.stdout}${verifiedAfterKill.stderr}`,
  )
  await catMatches(t, b.store, 'app', v1Files)

  // Restart: v2 completes from what is durable.
  const second = await spawnDaemon(b.store, args, { t })
  t.is(second.peerId, first.peerId)
  await second.waitForLog(synced('app', '2'), 60_000, 'app v2 synced after the restart')
  const head = await waitForHead(b.store, 'app', '2', { describe: () => second.tail() })
  t.is(head.root, v2.root)

  const status = await daemonStatus(b.store)
  const sync = status.sync.find((s) => s.name === 'app' && s.version === '2')
  t.is(sync?.state, 'complete')
  const have2 = sync?.haveBlocks ?? Number.POSITIVE_INFINITY
  const patched2 = sync?.patchedBlocks ?? 0
  t.log(
    `after the restart B received ${have2} blocks (${patched2} as patches, ${sync?.bytesReceived} B); N - durable = ${N - durable}`,
  )
  // The second run asks for exactly what is missing: each block once, none it had made durable.
  // (N, A's new blocks, counts v2's signed head too: B stores it when it publishes, it is not fetched.)
  t.true(have2 >= N - 1 - durable, `${have2} blocks received, ${N - 1 - durable} were missing`)
  t.true(have2 <= N - durable, `${have2} blocks received, only ${N - 1 - durable} were missing`)
  // Over both runs, at most a few % of v2 travelled twice (received, not yet durable, at the kill).
  t.true(
    atKill.haveBlocks + have2 <= 1.05 * N,
    `received in all ${atKill.haveBlocks} + ${have2} blocks for ${N} (at most 105%)`,
  )
  t.true(patched2 > 0.8 * have2, `the rest came as patches too: ${patched2} of ${have2}`)
  t.log(
    `B's blocks: ${blocksV1} with v1, ${afterKill.store.blocks} after the kill, ${status.store.blocks} with v2; N = ${N}`,
  )
  t.is(status.store.blocks, blocksV1 + N, 'B holds v1 and v2, no block twice')

  await catMatches(t, b.store, 'app', release.files)
  t.is(await second.stop(), 0)
  const verified = await verify(b.store)
  t.is(verified.code, 0, `verify B: ${verified.stdout}${verified.stderr}`)
  t.is(await da.stop(), 0)
})
