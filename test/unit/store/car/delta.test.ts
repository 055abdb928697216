import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { DAG_CBOR, decodeNode } from '../../../../store/blocks/cid.js'
import { patchNode, typeOf } from '../../../../store/dag/nodes/index.js'
import {
  blockKey,
  exportArchive,
  type FerryError,
  importArchive,
  makeInventory,
  type Store,
  verify,
} from '../../../../store/index.js'
import { carBlocks } from '../../../helpers/archive.js'
import {
  dagBlocks,
  type Exported,
  headLines,
  held,
  newStore,
  siteWithV1,
  type Teardown,
} from '../../../helpers/store.js'

/*
 * The site imported demo v1 and wrote its inventory; the publisher exports
 * demo v2 against that inventory. The delta carries exactly the blocks of v2
 * the site lacks, completes v2 there, and is refused, cleanly, by a store
 * that lacks v1.
 */
async function deltaAgainstSite(t: Teardown) {
  const fixture = await siteWithV1(t)
  const { dir, publisher, site } = fixture
  const inventory = join(dir, 'site-inventory.json')
  await writeFile(inventory, JSON.stringify(await makeInventory(site)))
  const delta = join(dir, 'delta.car')
  const exported = await exportArchive(publisher, { heads: ['demo'], base: [inventory], out: delta })
  return { ...fixture, delta, exported }
}

/** The publisher's v2 blocks that `store` lacks, by block key. */
async function lacking(publisher: Store, v2: Exported, store: Store): Promise<Set<string>> {
  const below = await dagBlocks(publisher, v2.build.root)
  const there = new Set((await held(store, below.values())).map(blockKey))
  return new Set([...below.keys()].filter((key) => !there.has(key)))
}

test('a delta against the site inventory carries only the blocks the site lacks', async (t) => {
  const { publisher, site, v2, delta, exported } = await deltaAgainstSite(t)
  const missing = await lacking(publisher, v2, site)
  const all = await dagBlocks(publisher, v2.build.root)
  t.true(missing.size > 0 && missing.size < all.size / 2, 'v2 shares most of its blocks with v1')

  t.is(exported.blocks, missing.size)
  t.true(exported.skipped > 0, 'blocks held by the base were left out')
  t.deepEqual(exported.warnings, [])
  // The blocks in the file (read with @ipld/car), less envelope, head and part marker: each missing
  // block once, as itself or as a patch against v1 (which the site has) that stands for it.
  const { blocks } = await carBlocks(delta)
  const raw = blocks.map((b) => blockKey(b.cid)).filter((key) => all.has(key))
  const patches = blocks.flatMap((b) => {
    const value = b.cid.code === DAG_CBOR ? decodeNode(b.cid, b.bytes) : undefined
    return typeOf(value) === 'patch' ? [patchNode.check(b.cid, value)] : []
  })
  t.is(blocks.length, raw.length + patches.length + 3)
  t.is(
    exported.patched,
    patches.reduce((sum, p) => sum + p.targets.length, 0),
  )
  t.true(patches.length > 0, 'the edited chunks of app.bin travel as patches')
  t.true(
    patches.some((p) => p.targets.some((cid) => cid.code === DAG_CBOR)),
    "app.bin's index node (its chunk list, mostly the old one's) travels as a patch against the old one",
  )
  t.true(exported.patchBytes < patches.reduce((sum, p) => sum + p.sizes.reduce((a, b) => a + b, 0), 0) / 5)
  const carried = [...raw, ...patches.flatMap((p) => p.targets.map(blockKey))]
  t.deepEqual(carried.sort(), [...missing].sort(), 'exactly the missing blocks, each once')
  t.true((await stat(delta)).size < (await stat(v2.archive)).size / 2)

  const result = await importArchive(site, delta)

  t.deepEqual(
    result.heads.map((h) => [h.version, h.status]),
    [['2', 'published']],
  )
  t.is(result.newBlocks, missing.size)
  t.deepEqual(await headLines(site), await headLines(publisher))
  t.is((await lacking(publisher, v2, site)).size, 0)
  const report = await verify(site)
  t.true(report.ok, JSON.stringify(report.problems))
})

test('a delta imported where its base is missing fails with ERR_INCOMPLETE and publishes nothing', async (t) => {
  const { dir, publisher, v1, v2, delta } = await deltaAgainstSite(t)
  const elsewhere = await newStore(t, dir, 'elsewhere', [publisher])

  const err = await t.throwsAsync<FerryError>(importArchive(elsewhere, delta))

  t.is(err?.code, 'ERR_INCOMPLETE')
  t.deepEqual(err?.details?.base, [v1.build.root], 'names the base it lacks')
  t.regex(err?.message ?? '', /delta against demo 1/)
  t.deepEqual(await headLines(elsewhere), [], 'no head published')
  t.true((await verify(elsewhere)).ok)
  // With the base imported, the same delta completes v2.
  await importArchive(elsewhere, v1.archive)
  const again = await importArchive(elsewhere, delta)
  t.deepEqual(
    again.heads.map((h) => [h.version, h.status]),
    [['2', 'published']],
  )
  t.is((await lacking(publisher, v2, elsewhere)).size, 0)
  t.true((await verify(elsewhere)).ok)
})
