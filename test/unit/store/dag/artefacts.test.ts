import { createHash } from 'node:crypto'
import test from 'ava'
import { gc, importArchive } from '../../../../store/index.js'
import { publisherWithDemo } from '../../../helpers/store.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

test('a built release names its artefacts by sha256; gc of the head that held one forgets it', async (t) => {
  const { publisher } = await publisherWithDemo(t)
  const v2Config = await publisher.artefacts.find(sha256('replicas: 2\n'))
  t.is(v2Config?.size, 'replicas: 2\n'.length)
  // v1's config is only in v1, which v2 replaced: held until gc.
  t.truthy(await publisher.artefacts.find(sha256('replicas: 1\n')))
  await gc(publisher)
  t.is(await publisher.artefacts.find(sha256('replicas: 1\n')), undefined)
  t.truthy(await publisher.artefacts.find(sha256('replicas: 2\n')))
  t.is(await publisher.artefacts.find('0'.repeat(64)), undefined)
})

test('an imported release is indexed as it is published', async (t) => {
  const { publisher, site, v1 } = await publisherWithDemo(t)
  t.is(await site.artefacts.find(sha256('replicas: 1\n')), undefined)
  await importArchive(site, v1.archive)
  const found = await site.artefacts.find(sha256('replicas: 1\n'))
  t.is(found?.size, 'replicas: 1\n'.length)
  // The same bytes have the same file DAG on both sides.
  t.is(found?.root.toString(), (await publisher.artefacts.find(sha256('replicas: 1\n')))?.root.toString())
})
