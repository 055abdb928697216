import test from 'ava'
import { initStore } from '../../helpers/cli.js'
import { daemonStatus, spawnDaemon, waitFor, waitForHead } from '../../helpers/ferry-daemon.js'
import {
  buildPseudoRandomRelease,
  buildVersion,
  catMatches,
  corruptRawBlocks,
  MiB,
  scatterEdits,
  synced,
  trustPublisher,
  verify,
} from '../../helpers/sync-fixtures.js'

test('a peer whose patches do not expand to their targets is dropped; the site completes v2 from an honest peer, and with only that peer publishes nothing', async (t) => {
  const a = await initStore(t)
  const b = await initStore(t)
  const c = await initStore(t)
  const h = await initStore(t)
  const v1 = await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'app',
    version: '1',
    seed: 'bad-patch',
    files: [
      { name: 'x.bin', size: 16 * MiB + 77 },
      { name: 'y.bin', size: 8 * MiB },
    ],
  })
  for (const site of [b, c, h]) await trustPublisher(site.store, a.store)

  // B, C and the honest H hold v1, synced from A.
  const da = await spawnDaemon(a.store, [], { t })
  const follow = ['--peer', da.addr, '--follow', 'app']
  const [db1, dc1, dh] = await Promise.all([b, c, h].map((site) => spawnDaemon(site.store, follow, { t })))
  for (const d of [db1, dc1, dh])
    await d.waitForLog(synced('app', '1'), 60_000, `app v1 synced on ${d.storeDir}`)
  t.is(await db1.stop(), 0)
  t.is(await dc1.stop(), 0)

  // v2 with a small edit every ~24 KiB: it travels almost all as patches. H gets it while A is sound.
  const total = v1.files.reduce((sum, f) => sum + f.size, 0)
  await scatterEdits(v1.files, Math.round(total / (24 * 1024)), 16, 0xbad)
  const v2 = await buildVersion(a.dir, a.store, 'app', '2', v1.files)
  await waitForHead(h.store, 'app', '2', { timeoutMs: 60_000, describe: () => dh.tail() })

  // Damage A's raw blocks (its daemon stopped): A now makes its patches from bytes that do not match
  // their CIDs (or against a damaged base), so they expand on the site to bytes that do not match.
  t.is(await da.stop(), 0)
  const flipped = await corruptRawBlocks(a.store, 4)
  t.true(flipped >= 100, `${flipped} blocks flipped in A's packs`)
  const da2 = await spawnDaemon(a.store, [], { t })
  t.is(da2.peerId, da.peerId)

  // B, from the corrupt A and the honest H: A is dropped for a bad patch, v2 completes from H.
  const db = await spawnDaemon(b.store, ['--peer', da2.addr, '--peer', dh.addr, '--follow', 'app'], { t })
  await db.waitForLog(synced('app', '2'), 60_000, 'app v2 synced on B')
  const head = await waitForHead(b.store, 'app', '2', { describe: () => db.tail() })
  t.is(head.root, v2.root)
  const dropped = db.log().filter((l) => l.msg === 'peer dropped')
  const droppedA = dropped.find((l) => l.peer === da.peerId)
  t.log(`B dropped A: ${droppedA?.code} ${droppedA?.reason}`)
  t.is(droppedA?.code, 'ERR_CORRUPT_BLOCK', `B's log names A (${da.peerId}) as dropped\n${db.tail(30)}`)
  t.regex(String(droppedA?.reason), /sent a bad patch/)
  t.false(
    dropped.some((l) => l.peer === dh.peerId),
    `H (${dh.peerId}) sends good patches and is not dropped`,
  )
  const sync = (await daemonStatus(b.store)).sync.find((s) => s.name === 'app' && s.version === '2')
  t.is(sync?.state, 'complete')
  t.log(`B received ${JSON.stringify(sync?.bytesByPeer)}; ${sync?.patchedBlocks} blocks as patches`)
  t.true((sync?.bytesByPeer[dh.peerId] ?? 0) > 0, 'bytes from H')
  t.true((sync?.patchedBlocks ?? 0) > 0, 'H sent patches')
  await catMatches(t, b.store, 'app', v1.files)
  t.is(await db.stop(), 0)
  const verifiedB = await verify(b.store)
  t.is(verifiedB.code, 0, `verify B: ${verifiedB.stdout}${verifiedB.stderr}`)

  // C, from the corrupt A only: A is dropped, v2 is not published, the status says why.
  const dc = await spawnDaemon(c.store, ['--peer', da2.addr, '--follow', 'app'], { t })
  const droppedByC = await dc.waitForLog(
    (l) => l.msg === 'peer dropped' && l.peer === da.peerId,
    60_000,
    'A dropped by C',
  )
  t.is(droppedByC.code, 'ERR_CORRUPT_BLOCK')
  t.regex(String(droppedByC.reason), /sent a bad patch/)
  const failed = await waitFor(
    "C's sync of v2 ended with an error",
    async () =>
      (await daemonStatus(c.store)).sync.find(
        (s) => s.name === 'app' && s.version === '2' && s.error !== undefined,
      ),
    { timeoutMs: 30_000, describe: () => dc.tail() },
  )
  t.log(`C's sync of v2: ${failed.state}: ${failed.error}`)
  t.not(failed.state, 'complete')
  t.regex(String(failed.error), /bad patch/)
  const cHeads = (await daemonStatus(c.store)).heads
  t.deepEqual(
    cHeads.map((x) => [x.name, x.version, x.complete]),
    [['app', '1', true]],
    'C still has v1 only',
  )
  t.is(await dc.stop(), 0)
  const verifiedC = await verify(c.store)
  t.is(verifiedC.code, 0, `verify C: ${verifiedC.stdout}${verifiedC.stderr}`)
  for (const d of [dh, da2]) t.is(await d.stop(), 0)
})
