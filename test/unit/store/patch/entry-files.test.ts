import test from 'ava'
import { cidFor, RAW } from '../../../../store/blocks/cid.js'
import type { Entry } from '../../../../store/dag/nodes/index.js'
import { entryFiles } from '../../../../store/patch/entry-files.js'

const cid = (text: string) => cidFor(RAW, new TextEncoder().encode(text))
const LAYER = 'application/vnd.oci.image.layer.v1.tar'
const CONFIG = 'application/vnd.oci.image.config.v1+json'

function image(version: string, layers: string[]): Entry {
  const blob = (mediaType: string, name: string) => ({
    digest: `sha256:${name}`,
    mediaType,
    size: 1,
    root: cid(name),
  })
  return {
    kind: 'image',
    module: 'm',
    name: 'images/app',
    root: cid(`manifest ${version}`),
    sha256: 'x',
    size: 1,
    ref: `app:${version}`,
    repository: 'docker.io/library/app',
    platform: 'linux/amd64',
    digest: 'sha256:x',
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    blobs: [blob(CONFIG, `config ${version}`), ...layers.map((layer) => blob(LAYER, layer))],
  } as unknown as Entry
}

test('a file entry is its one file; an image is its manifest and each blob, by media type and place', (t) => {
  const file = {
    kind: 'file',
    module: 'm',
    name: 'bin/tool',
    root: cid('tool'),
    sha256: 'x',
    size: 1,
  } as unknown as Entry
  t.deepEqual(
    entryFiles(file).map((f) => [f.key, f.root.toString()]),
    [['m/bin/tool', cid('tool').toString()]],
  )
  const v1 = entryFiles(image('1', ['base', 'app 1']))
  const v2 = entryFiles(image('2', ['base', 'app 2']))
  t.deepEqual(
    v2.map((f) => f.key),
    ['m/images/app', `m/images/app#${CONFIG}#0`, `m/images/app#${LAYER}#0`, `m/images/app#${LAYER}#1`],
  )
  // The same places pair the old image's files with the new one's: the second layer with the second.
  const old = new Map(v1.map((f) => [f.key, f.root.toString()]))
  t.is(old.get(v2[3].key), cid('app 1').toString())
  t.is(old.get(v2[1].key), cid('config 1').toString())
})
