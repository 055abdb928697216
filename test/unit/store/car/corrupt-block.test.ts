import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { blockKey, DAG_CBOR, type FerryError, importArchive, RAW } from '../../../../store/index.js'
import { carLayout } from '../../../helpers/archive.js'
import { dagBlocks, headsAndSound, held, siteWithV1 } from '../../../helpers/store.js'

/*
 * demo v2's archive with one byte flipped inside one block the site does
 * not hold yet: a raw leaf, then a dag-cbor index node. The site (holding
 * demo v1) refuses it with ERR_CORRUPT_BLOCK naming that block, stores no
 * such block, keeps its head and still verifies; the intact archive then imports.
 */
for (const [kind, codec] of [
  ['a raw leaf', RAW],
  ['a dag-cbor index node', DAG_CBOR],
] as const) {
  test(`an archive with ${kind} corrupted is refused with ERR_CORRUPT_BLOCK and changes no head`, async (t) => {
    const { dir, publisher, site, v2, before } = await siteWithV1(t)
    const below = await dagBlocks(publisher, v2.build.root)
    const there = new Set((await held(site, below.values())).map(blockKey))
    const { sections } = await carLayout(v2.archive)
    const target = sections.find(
      (s) => s.cid.code === codec && below.has(blockKey(s.cid)) && !there.has(blockKey(s.cid)),
    )
    if (target === undefined) return t.fail(`no new ${kind} in the archive`)
    const bytes = await readFile(v2.archive)
    bytes[target.blockOffset + Math.floor(target.blockLength / 2)] ^= 0x40
    const damaged = join(dir, 'damaged.car')
    await writeFile(damaged, bytes)

    const err = await t.throwsAsync<FerryError>(importArchive(site, damaged))

    t.is(err?.code, 'ERR_CORRUPT_BLOCK', err?.message)
    t.is(err?.details?.cid, target.cid.toString(), 'names the damaged block')
    t.false(await site.blocks.has(target.cid), 'the damaged block was not stored')
    await headsAndSound(t, site, before)
    const intact = await importArchive(site, v2.archive)
    t.deepEqual(
      intact.heads.map((h) => [h.version, h.status]),
      [['2', 'published']],
    )
  })
}
