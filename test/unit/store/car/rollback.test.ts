import test from 'ava'
import { type FerryError, importArchive, parseCid, verify } from '../../../../store/index.js'
import { headLines, headsAndSound, publisherWithDemo, type Teardown } from '../../../helpers/store.js'

/*
 * A site that holds demo v2 (seq 2) is handed the older archive of demo v1
 * (seq 1) again: a replay, refused with ERR_ROLLBACK before a block is
 * stored, unless the import asks for a downgrade explicitly.
 */
async function siteWithV2(t: Teardown) {
  const fixture = await publisherWithDemo(t)
  await importArchive(fixture.site, fixture.v2.archive)
  return { ...fixture, before: await headLines(fixture.site) }
}

test('replaying an older archive is refused with ERR_ROLLBACK and changes no head', async (t) => {
  const { site, v1, v2, before } = await siteWithV2(t)
  t.deepEqual(before, [`demo v2 seq 2 ${v2.build.head.cid}`])

  const err = await t.throwsAsync<FerryError>(importArchive(site, v1.archive))

  t.is(err?.code, 'ERR_ROLLBACK', err?.message)
  t.deepEqual(err?.details, { name: 'demo', seq: 1, current: 2 })
  await headsAndSound(t, site, before)
  t.false(await site.blocks.has(parseCid(v1.build.root)), "v1's root block was not stored")
})

test('an older archive imported with allowDowngrade makes it the head again', async (t) => {
  const { site, v1 } = await siteWithV2(t)

  const result = await importArchive(site, v1.archive, { allowDowngrade: true })

  t.deepEqual(
    result.heads.map((h) => [h.version, h.seq, h.status]),
    [['1', 1, 'published']],
  )
  t.deepEqual(await headLines(site), [`demo v1 seq 1 ${v1.build.head.cid}`])
  const report = await verify(site)
  t.true(report.ok, JSON.stringify(report.problems))
})
