import { createHash } from 'node:crypto'
import test from 'ava'
import { artefactsOf, cidFor, type Entry, gc, importArchive, RAW } from '../../../../store/index.js'
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

test("an image entry's artefacts: its manifest (or index), the manifests the index keeps, its blobs", (t) => {
  const root = (n: number) => cidFor(RAW, new Uint8Array([n]))
  const d = (n: number) => `sha256:${String(n).repeat(64)}`
  const entry = {
    kind: 'image',
    module: 'm',
    name: 'r/x:1',
    size: 10,
    sha256: '0'.repeat(64),
    root: root(0),
    manifests: [{ digest: d(1), mediaType: 'm', size: 11, root: root(1), platform: 'linux/amd64' }],
    blobs: [
      { digest: d(2), mediaType: 'c', size: 12, root: root(2) },
      { digest: 'sha512:00', mediaType: 'l', size: 13, root: root(3) },
    ],
  } as unknown as Entry
  t.deepEqual(
    artefactsOf(entry).map((a) => [a.sha256, a.size, a.root.toString()]),
    [
      ['0'.repeat(64), 10, root(0).toString()],
      ['1'.repeat(64), 11, root(1).toString()],
      ['2'.repeat(64), 12, root(2).toString()],
    ],
  )
})
