import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { blockKey, exportArchive, importArchive, Store, verify } from '../../../../store/index.js'
import { carLayout } from '../../../helpers/archive.js'
import { dagBlocks, headLines, publisherWithDemo, type Teardown } from '../../../helpers/store.js'

/*
 * demo v2 (about 2.7 MiB) exported in parts of at most 512 KiB: each part
 * is a CAR of its own, and the parts complete the head at the site whatever
 * their order, one import at a time, with the store closed in between.
 */
const SPLIT = 512 * 1024

async function splitDemo(t: Teardown) {
  const fixture = await publisherWithDemo(t)
  const out = join(fixture.dir, 'demo-2-split.car')
  const exported = await exportArchive(fixture.publisher, { heads: ['demo'], out, splitBytes: SPLIT })
  return { ...fixture, exported }
}

test('a split export writes parts of at most the split size, each a CAR rooted at the envelope', async (t) => {
  const { publisher, v2, exported } = await splitDemo(t)
  const below = await dagBlocks(publisher, v2.build.root)
  t.true(exported.parts.length >= 4, `${exported.parts.length} parts`)
  t.is(exported.blocks, below.size)

  const seen = new Map<string, number>()
  for (const [i, part] of exported.parts.entries()) {
    t.true(part.path.endsWith(`.00${i + 1}`), part.path)
    const size = (await stat(part.path)).size
    t.is(size, part.bytes)
    t.true(size <= SPLIT, `${part.path}: ${size} bytes`)
    const layout = await carLayout(part.path)
    t.deepEqual(layout.roots.map(String), [exported.envelope], `${part.path}: rooted at the envelope`)
    t.is(layout.sections.length, part.sections)
    t.is(layout.sections[0].cid.toString(), exported.envelope, 'the envelope comes first')
    for (const { cid } of layout.sections) {
      const key = blockKey(cid)
      if (below.has(key)) seen.set(key, (seen.get(key) ?? 0) + 1)
    }
  }
  t.is(seen.size, below.size, 'the parts hold every block of v2')
  t.true(
    [...seen.values()].every((n) => n === 1),
    'each in one part only',
  )
})

test('parts imported in reverse order, one call at a time, publish the head only with the last', async (t) => {
  const { dir, publisher, exported } = await splitDemo(t)
  const sitePath = join(dir, 'split-site')
  let site = await Store.init(sitePath)
  t.teardown(() => site.close())
  await site.trustAdd((await publisher.publisher()).token)
  const parts = exported.parts.map((p) => p.path).reverse()

  for (const [n, path] of parts.entries()) {
    const result = await importArchive(site, path)
    const [head] = result.heads
    t.is(result.part.parts, parts.length)
    t.is(result.part.index, parts.length - n, `${path}: its own index`)
    if (n < parts.length - 1) {
      t.is(head.status, 'waiting', `${path}: waiting for more parts`)
      // (A count of what is visible from the root: below a missing index node nothing is counted.)
      t.true(head.missingBlocks > 0, 'reports blocks still missing')
      t.deepEqual(await headLines(site), [], `nothing published after ${n + 1} of ${parts.length} parts`)
    } else {
      t.is(head.status, 'published', 'the last part completes the head')
      t.is(head.missingBlocks, 0)
    }
    // Another day: the next part goes into the store opened again.
    await site.close()
    site = await Store.open(sitePath)
  }

  t.deepEqual(await headLines(site), await headLines(publisher))
  const report = await verify(site)
  t.true(report.ok, JSON.stringify(report.problems))
})
