import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { openStoreDb } from '../../../../store/db/db.js'
import { gc } from '../../../../store/maint/gc.js'
import type { PackBlockstore, PackUsage } from '../../../../store/packs/pack-blockstore.js'
import { STORE_FORMAT, Store } from '../../../../store/store.js'
import { tempDir } from '../../../helpers/cli.js'
import { blocks, openPacks, putAll } from '../../../helpers/packs.js'

/** Small packs, so that a few dozen blocks fill several and compaction has some to rewrite. */
const SMALL_PACKS = { maxPackBytes: 100_000, flushBytes: 50_000 }

/** A PackBlockstore with SMALL_PACKS in a temporary folder, closed and removed after the test. */
async function smallPacks(t: ExecutionContext) {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const s = await openPacks(dir, SMALL_PACKS)
  t.teardown(() => s.close())
  return s
}

/** The kept counts, per pack, beside what a walk of the index finds. */
async function countsAndWalk(store: PackBlockstore) {
  const walked = new Map<number, { blocks: number; bytes: number }>()
  for await (const { location } of store.entries()) {
    const live = walked.get(location.pack) ?? { blocks: 0, bytes: 0 }
    live.blocks++
    live.bytes += location.length
    walked.set(location.pack, live)
  }
  const kept = (await store.usage()).filter((u: PackUsage) => u.liveBlocks > 0 || u.liveBytes > 0)
  return {
    kept: kept.map((u) => ({ pack: u.pack, blocks: u.liveBlocks, bytes: u.liveBytes })),
    walked: [...walked].sort((a, b) => a[0] - b[0]).map(([pack, live]) => ({ pack, ...live })),
  }
}

test('live counts follow puts, repeated puts, deletes and compaction, and survive a reopen', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  let s = await openPacks(dir, SMALL_PACKS)
  const list = blocks(40, 'live')
  await putAll(s.store, list)
  let { kept, walked } = await countsAndWalk(s.store)
  t.deepEqual(kept, walked, 'after the puts')
  t.is(
    kept.reduce((n, u) => n + u.blocks, 0),
    40,
  )
  await putAll(s.store, list.slice(10, 30))
  ;({ kept, walked } = await countsAndWalk(s.store))
  t.deepEqual(kept, walked, 'blocks put again are not counted again')
  for (const b of list.slice(0, 30)) await s.store.delete(b.cid)
  await s.store.delete(list[0].cid)
  ;({ kept, walked } = await countsAndWalk(s.store))
  t.deepEqual(kept, walked, 'after deletes (one of them of a block already gone)')
  t.is(
    kept.reduce((n, u) => n + u.blocks, 0),
    10,
  )
  const compacted = await s.store.compact()
  t.true(compacted.packsRemoved >= 2)
  ;({ kept, walked } = await countsAndWalk(s.store))
  t.deepEqual(kept, walked, 'after compaction moved the live blocks')
  await s.close()
  s = await openPacks(dir, SMALL_PACKS)
  t.teardown(() => s.close())
  const reopened = await countsAndWalk(s.store)
  t.deepEqual(reopened.kept, walked, 'the counts are kept in the index, not rebuilt on open')
  t.deepEqual(reopened.kept, reopened.walked)
})

test('a write-path lookup that misses a commit landing meanwhile does not append the block twice', async (t) => {
  const s = await smallPacks(t)
  const list = blocks(8, 'race')
  // The second writer's index lookup answers "absent", then is held until the first writer has committed
  // the same blocks: a lookup that was in flight while that commit landed.
  const lookup = s.db.blocks.hasMany.bind(s.db.blocks)
  let hold: Promise<void> | undefined
  let release!: () => void
  let looked!: () => void
  const lookedUp = new Promise<void>((resolve) => {
    looked = resolve
  })
  s.db.blocks.hasMany = (async (keys: Uint8Array[]) => {
    const present = await lookup(keys)
    if (hold !== undefined) {
      looked()
      await hold
    }
    return present
  }) as typeof s.db.blocks.hasMany
  hold = new Promise<void>((resolve) => {
    release = resolve
  })
  const second = putAll(s.store, list)
  await lookedUp
  hold = undefined
  await putAll(s.store, list)
  release()
  await second
  t.is(s.store.written().blocks, 8, 'each block appended once')
  const { kept, walked } = await countsAndWalk(s.store)
  t.deepEqual(kept, walked)
  for (const b of list) t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes)
})

test('a writer that skips the lookup (knownMissing) does not add a block another writer committed first', async (t) => {
  const s = await smallPacks(t)
  const list = blocks(8, 'known-missing')
  await putAll(s.store, list.slice(0, 4))
  const first = new Map<string, string>()
  for await (const { cid, location } of s.store.entries()) first.set(cid.toString(), JSON.stringify(location))
  for await (const _ of s.store.putHashed(list, { knownMissing: true })) {
    // drain
  }
  t.is(s.store.written().blocks, 12, 'all eight appended, without a lookup')
  const { kept, walked } = await countsAndWalk(s.store)
  t.deepEqual(kept, walked)
  t.is(
    kept.reduce((sum, pack) => sum + pack.blocks, 0),
    8,
    'the four committed first are counted once',
  )
  for await (const { cid, location } of s.store.entries()) {
    const before = first.get(cid.toString())
    if (before !== undefined)
      t.is(JSON.stringify(location), before, 'a block committed first keeps its location')
  }
  for (const b of list) t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes)
})

test('gc keeps the counts; a format-1 store gets them counted once when opened', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const storeDir = join(dir, 'store')
  let store = await Store.init(storeDir)
  await putAll(store.blocks, blocks(30, 'old'))
  let counts = await countsAndWalk(store.blocks)
  t.deepEqual(counts.kept, counts.walked)
  // No head reaches these blocks: gc drops them all.
  const collected = await gc(store)
  t.is(collected.blocksRemoved, 30)
  counts = await countsAndWalk(store.blocks)
  t.deepEqual(counts.kept, [])
  t.deepEqual(counts.walked, [])
  await putAll(store.blocks, blocks(12, 'kept'))
  const expected = (await countsAndWalk(store.blocks)).walked
  await store.close()

  // As a format-1 store was: no counts.
  const db = await openStoreDb(join(storeDir, 'db'), { create: false })
  for await (const key of db.live.keys()) await db.live.del(key)
  await db.meta.put('format', 1)
  await db.root.close()

  store = await Store.open(storeDir)
  t.teardown(() => store.close())
  counts = await countsAndWalk(store.blocks)
  t.deepEqual(counts.kept, expected)
  t.is(await store.db.meta.get('format'), STORE_FORMAT)
})
