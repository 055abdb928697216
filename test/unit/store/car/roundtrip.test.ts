import { join } from 'node:path'
import test from 'ava'
import { blockKey, exportArchive, importArchive, verify } from '../../../../store/index.js'
import { carBlocks } from '../../../helpers/archive.js'
import { pseudoRandom } from '../../../helpers/cli.js'
import {
  buildRelease,
  dagBlocks,
  demoVersions,
  headLines,
  newStore,
  testDir,
} from '../../../helpers/store.js'

/*
 * A whole archive of two heads, from a publisher store to a site store that
 * trusts it: every block of both DAGs travels once, both heads are published
 * with the publisher's signature, and the site verifies.
 */
test('a whole archive carries every block of its heads and publishes them at the site', async (t) => {
  const dir = await testDir(t)
  const publisher = await newStore(t, dir, 'publisher')
  const site = await newStore(t, dir, 'site', [publisher])
  const [demo] = demoVersions()
  // tools shares app.bin's bytes with demo: those blocks must travel once.
  const tools = {
    name: 'tools',
    version: '7',
    files: { 'tool.bin': pseudoRandom(700_000, 'roundtrip/tool'), 'app-copy.bin': demo.files['app.bin'] },
  }
  const builds = [await buildRelease(publisher, dir, demo), await buildRelease(publisher, dir, tools)]
  const archive = join(dir, 'both.car')

  const exported = await exportArchive(publisher, { heads: ['demo', 'tools'], out: archive })

  const below = new Map([
    ...(await dagBlocks(publisher, builds[0].root)),
    ...(await dagBlocks(publisher, builds[1].root)),
  ])
  t.is(exported.blocks, below.size, 'every block of both DAGs, each once')
  t.is(exported.skipped, 0)
  // Read back with @ipld/car: the archive holds exactly those blocks, plus envelope, two heads and the part marker.
  const { roots, blocks } = await carBlocks(archive)
  t.is(roots.length, 1)
  t.is(roots[0].toString(), exported.envelope)
  const carried = new Set(blocks.map((b) => blockKey(b.cid)))
  t.is(blocks.length, below.size + 4)
  t.true(
    [...below.keys()].every((key) => carried.has(key)),
    'no block below either root is left out',
  )

  const result = await importArchive(site, archive)
  t.deepEqual(result.heads.map((h) => [h.name, h.version, h.status, h.missingBlocks]).sort(), [
    ['demo', '1', 'published', 0],
    ['tools', '7', 'published', 0],
  ])
  t.is(result.blocks, below.size)
  t.is(result.newBlocks, below.size, 'the site held none of them before')
  t.deepEqual(await headLines(site), await headLines(publisher), 'the same signed heads, seq and roots')
  const key = (await publisher.publisher()).token
  for (const build of builds) {
    const there = await site.currentHead(build.name, key)
    t.is(there?.signature, build.head.signature, `${build.name}: the publisher's signature`)
  }
  for (const cid of below.values()) {
    const [mine, theirs] = await Promise.all([publisher.blocks.get(cid), site.blocks.get(cid)])
    if (Buffer.compare(mine, theirs) !== 0) t.fail(`block ${cid} differs at the site`)
  }
  const report = await verify(site)
  t.true(report.ok, JSON.stringify(report.problems))
  t.true(report.blocks >= below.size, 'verify read every block below the heads')
})

test('importing the same archive again changes nothing and says the heads are current', async (t) => {
  const dir = await testDir(t)
  const publisher = await newStore(t, dir, 'publisher')
  const site = await newStore(t, dir, 'site', [publisher])
  await buildRelease(publisher, dir, demoVersions()[0])
  const archive = join(dir, 'demo.car')
  await exportArchive(publisher, { heads: ['demo'], out: archive })
  await importArchive(site, archive)
  const before = await headLines(site)

  const again = await importArchive(site, archive)

  t.deepEqual(
    again.heads.map((h) => h.status),
    ['current'],
  )
  t.is(again.newBlocks, 0)
  t.is(again.newBytes, 0)
  t.deepEqual(await headLines(site), before)
})
