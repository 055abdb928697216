import test from 'ava'
import { ferry, initStore } from '../../helpers/cli.js'
import { daemonStatus, type LogLine, spawnDaemon, waitForHead } from '../../helpers/ferry-daemon.js'
import {
  buildPseudoRandomRelease,
  catMatches,
  corruptRawBlocks,
  MiB,
  trustPublisher,
  verify,
} from '../../helpers/sync-fixtures.js'

const synced = (name: string) => (l: LogLine) => l.msg === 'head synced and published' && l.head === name

/**
 * A with head `name` built from pseudo-random files, B synced from A (its daemon still running), and a
 * third store C that trusts A's key.
 */
async function twoHolders(
  t: Parameters<typeof initStore>[0],
  name: string,
  files: Array<{ name: string; size: number }>,
) {
  const a = await initStore(t)
  const b = await initStore(t)
  const c = await initStore(t)
  const release = await buildPseudoRandomRelease(a.dir, a.store, { name, version: '1', seed: name, files })
  await trustPublisher(b.store, a.store)
  await trustPublisher(c.store, a.store)
  const da = await spawnDaemon(a.store, [], { t })
  const db = await spawnDaemon(b.store, ['--peer', da.addr, '--follow', name], { t })
  await db.waitForLog(synced(name), 60_000, `${name} synced on B`)
  await waitForHead(b.store, name, '1', { describe: () => db.tail() })
  return { a, b, c, release, da, db }
}

test('C fetches one head from A and B at once: bytes from both peers', async (t) => {
  const { c, release, da, db } = await twoHolders(t, 'wide', [
    { name: 'a.bin', size: 40 * MiB + 99 },
    { name: 'b.bin', size: 24 * MiB },
  ])
  const dc = await spawnDaemon(c.store, ['--peer', da.addr, '--peer', db.addr, '--follow', 'wide'], { t })
  await dc.waitForLog(synced('wide'), 60_000, 'wide synced on C')
  const head = await waitForHead(c.store, 'wide', '1', { describe: () => dc.tail() })
  t.is(head.root, release.build.root)

  const status = await daemonStatus(c.store)
  const sync = status.sync.find((s) => s.name === 'wide')
  t.is(sync?.state, 'complete')
  const byPeer = sync?.bytesByPeer ?? {}
  t.log(`bytes by peer: A ${byPeer[da.peerId]}, B ${byPeer[db.peerId]} (total ${sync?.bytesReceived})`)
  t.true((byPeer[da.peerId] ?? 0) > 0, `bytes from A (${da.peerId}) in ${JSON.stringify(byPeer)}`)
  t.true((byPeer[db.peerId] ?? 0) > 0, `bytes from B (${db.peerId}) in ${JSON.stringify(byPeer)}`)
  t.is(
    Object.values(byPeer).reduce((sum, n) => sum + n, 0),
    sync?.bytesReceived ?? -1,
    'bytesByPeer adds up to bytesReceived',
  )

  const verified = await verify(c.store)
  t.is(verified.code, 0, `verify C: ${verified.stdout}${verified.stderr}`)
  await catMatches(t, c.store, 'wide', release.files)
  for (const d of [dc, db, da]) t.is(await d.stop(), 0)
})

test('a peer that serves blocks not matching their CIDs is dropped; C completes from the honest one', async (t) => {
  const { a, c, release, da, db } = await twoHolders(t, 'bad', [
    { name: 'x.bin', size: 20 * MiB + 5 },
    { name: 'y.bin', size: 12 * MiB },
  ])
  // Flip bytes in A's packs (its daemon stopped), then serve them again: A now sends corrupt blocks.
  t.is(await da.stop(), 0)
  const flipped = await corruptRawBlocks(a.store, 8)
  t.true(flipped >= 40, `${flipped} blocks flipped in A's packs`)
  const da2 = await spawnDaemon(a.store, [], { t })
  t.is(da2.peerId, da.peerId)

  const dc = await spawnDaemon(c.store, ['--peer', da2.addr, '--peer', db.addr, '--follow', 'bad'], { t })
  await dc.waitForLog(synced('bad'), 60_000, 'bad synced on C')
  const head = await waitForHead(c.store, 'bad', '1', { describe: () => dc.tail() })
  t.is(head.root, release.build.root)

  const dropped = dc.log().filter((l) => l.msg === 'peer dropped' && /do not match/.test(String(l.reason)))
  t.true(
    dropped.some((l) => l.peer === da.peerId),
    `C's log names A (${da.peerId}) as dropped\n${dc.tail(30)}`,
  )
  t.false(
    dropped.some((l) => l.peer === db.peerId),
    `B (${db.peerId}) serves good blocks and is not dropped`,
  )

  const verified = await verify(c.store)
  t.is(verified.code, 0, `verify C: ${verified.stdout}${verified.stderr}`)
  await catMatches(t, c.store, 'bad', release.files)
  for (const d of [dc, db, da2]) t.is(await d.stop(), 0)
})

test('a peer dropped for a corrupt block is not asked again when it reconnects and re-offers the head; the sync completes from an honest peer', async (t) => {
  const { a, c, release, da, db } = await twoHolders(t, 'again', [{ name: 'z.bin', size: 16 * MiB }])
  t.is(await da.stop(), 0)
  t.true((await corruptRawBlocks(a.store, 4)) > 0, "blocks flipped in A's packs")
  const da2 = await spawnDaemon(a.store, [], { t })

  // C knows only the corrupt A at first: it drops A, then redials it (A is a configured peer).
  const dc = await spawnDaemon(c.store, ['--peer', da2.addr, '--follow', 'again'], { t })
  const isA = (l: LogLine) => l.peer === da.peerId
  const dropped = await dc.waitForLog((l) => l.msg === 'peer dropped' && isA(l), 30_000, 'A dropped')
  t.is(dropped.code, 'ERR_CORRUPT_BLOCK')
  const refused = await dc.waitForLog(
    (l) => l.msg === 'peer dropped earlier; not asked again for this root' && isA(l),
    30_000,
    'A refused when it re-offers the head',
  )
  t.is(refused.root, release.build.root)
  t.regex(String(refused.reason), /do not match/)

  // The honest B, through C's daemon: the head completes from it.
  const pulled = await ferry(['sync', db.addr, 'again', '--store', c.store, '--json'])
  t.is(pulled.code, 0, pulled.stderr)
  const head = await waitForHead(c.store, 'again', '1', { describe: () => dc.tail() })
  t.is(head.root, release.build.root)
  const sync = (await daemonStatus(c.store)).sync.find((s) => s.name === 'again')
  t.true((sync?.bytesByPeer[db.peerId] ?? 0) > 0, `bytes from B: ${JSON.stringify(sync?.bytesByPeer)}`)
  t.false(sync?.peers.includes(da.peerId), 'A is not among the sync peers')
  t.is(dc.log().filter((l) => l.msg === 'peer dropped' && isA(l)).length, 1, 'A was asked, and dropped, once')
  t.is((await verify(c.store)).code, 0, 'C verifies')
  for (const d of [dc, db, da2]) t.is(await d.stop(), 0)
})
