import { copyFile, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { type FerryError, importArchive } from '../../../../store/index.js'
import { type CarSection, carLayout } from '../../../helpers/archive.js'
import { headsAndSound, siteWithV1 } from '../../../helpers/store.js'

/*
 * demo v2's archive cut short at several places: the site (holding demo v1)
 * refuses each with ERR_BAD_ARCHIVE, keeps its head and still verifies, and
 * the whole archive imported afterwards publishes v2.
 */
const cuts: Array<[string, (layout: { headerLength: number; sections: CarSection[] }) => number]> = [
  ['to nothing', () => 0],
  ['inside the header', ({ headerLength }) => Math.floor(headerLength / 2)],
  [
    'inside a block in the middle',
    ({ sections }) => {
      const s = sections[Math.floor(sections.length / 2)]
      return s.blockOffset + Math.floor(s.blockLength / 2)
    },
  ],
  // Every section left is whole: only the part marker's section count tells.
  ['on a section boundary in the middle', ({ sections }) => sections[Math.floor(sections.length / 2)].offset],
  ['before its last section', ({ sections }) => sections[sections.length - 1].offset],
]

for (const [where, at] of cuts) {
  test(`an archive cut ${where} is refused with ERR_BAD_ARCHIVE and changes no head`, async (t) => {
    const { dir, site, v2, before } = await siteWithV1(t)
    const layout = await carLayout(v2.archive)
    const length = at(layout)
    t.true(length < layout.size)
    const cut = join(dir, 'cut.car')
    await copyFile(v2.archive, cut)
    await truncate(cut, length)

    const err = await t.throwsAsync<FerryError>(importArchive(site, cut))

    t.is(err?.code, 'ERR_BAD_ARCHIVE', err?.message)
    await headsAndSound(t, site, before)
    const whole = await importArchive(site, v2.archive)
    t.deepEqual(
      whole.heads.map((h) => [h.version, h.status]),
      [['2', 'published']],
    )
  })
}
