import test from 'ava'
import { type FerryError, importArchive, parseCid } from '../../../../store/index.js'
import {
  dagBlocks,
  headLines,
  headsAndSound,
  held,
  newStore,
  publisherWithDemo,
} from '../../../helpers/store.js'

/*
 * An archive whose heads are signed by a key the importing store does not
 * trust: refused with ERR_UNTRUSTED_KEY before a block is stored; once the
 * key is trusted, the same archive imports.
 */
test('an archive from an untrusted publisher is refused with ERR_UNTRUSTED_KEY and stores nothing', async (t) => {
  const { dir, publisher, v1 } = await publisherWithDemo(t)
  const stranger = await newStore(t, dir, 'stranger')
  const key = (await publisher.publisher()).token
  const before = await headLines(stranger)
  t.is(before.length, 0)

  const err = await t.throwsAsync<FerryError>(importArchive(stranger, v1.archive))

  t.is(err?.code, 'ERR_UNTRUSTED_KEY', err?.message)
  t.is(err?.details?.publisher, key, 'names the key')
  t.is(err?.details?.name, 'demo')
  await headsAndSound(t, stranger, before)
  const below = await dagBlocks(publisher, v1.build.root)
  t.deepEqual(await held(stranger, below.values()), [], 'not one block of the release was stored')

  await stranger.trustAdd(key)
  const result = await importArchive(stranger, v1.archive)
  t.deepEqual(
    result.heads.map((h) => [h.version, h.status]),
    [['1', 'published']],
  )
  t.deepEqual(await headLines(stranger), [`demo v1 seq 1 ${v1.build.head.cid}`])
})

test('a publisher removed from the trust list is refused again', async (t) => {
  const { publisher, site, v1, v2 } = await publisherWithDemo(t)
  await importArchive(site, v1.archive)
  const before = await headLines(site)
  await site.trustRemove((await publisher.publisher()).token)

  const err = await t.throwsAsync<FerryError>(importArchive(site, v2.archive))

  t.is(err?.code, 'ERR_UNTRUSTED_KEY', err?.message)
  await headsAndSound(t, site, before)
  t.false(await site.blocks.has(parseCid(v2.build.root)), "v2's root block was not stored")
})
