import test from 'ava'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { ServeCatalog, ServedHead } from '../../../../../daemon/http/serve/catalog.js'
import {
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  parseAccept,
} from '../../../../../daemon/http/serve/registry/accept.js'
import { RegistryError } from '../../../../../daemon/http/serve/registry/errors.js'
import { ImageIndex, RegistryImages } from '../../../../../daemon/http/serve/registry/images.js'
import {
  candidates,
  checkDigest,
  checkName,
  namespaceOf,
  parseReference,
} from '../../../../../daemon/http/serve/registry/names.js'
import type { Entry, HeadRecord, ImageBlob } from '../../../../../store/index.js'

/*
 * The registry's pure parts: Accept parsing, the name grammar and mapping,
 * and the image index built from served heads (which head wins a tag, what
 * stays reachable by digest, which repository a name reaches).
 */

const cidOf = async (text: string) => CID.create(1, 0x55, await sha256.digest(new TextEncoder().encode(text)))
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`

async function blob(
  n: number,
  mediaType = 'application/octet-stream',
  platform?: string,
): Promise<ImageBlob> {
  return {
    digest: digestOf(n),
    mediaType,
    size: n,
    root: await cidOf(`blob ${n}`),
    ...(platform ? { platform } : {}),
  }
}

/** An image entry of `repository:tag` whose manifest (or index) is digest `n`, with one blob `n + 1`. */
async function image(
  repository: string,
  tag: string | undefined,
  n: number,
  options: { index?: boolean } = {},
): Promise<Entry> {
  const children = options.index
    ? [await blob(n + 10, OCI_MANIFEST, 'linux/amd64'), await blob(n + 11, OCI_MANIFEST, 'linux/arm64/v8')]
    : undefined
  return {
    kind: 'image',
    module: 'm',
    name: `${repository}:${tag}`,
    size: n,
    sha256: digestOf(n).slice(7),
    root: await cidOf(`manifest ${n}`),
    ref: `${repository}:${tag}`,
    repository,
    ...(tag === undefined ? {} : { tag }),
    platform: options.index ? 'all' : 'linux/amd64',
    digest: digestOf(n),
    mediaType: options.index ? OCI_INDEX : OCI_MANIFEST,
    ...(children === undefined ? {} : { manifests: children }),
    blobs: [await blob(n + 1)],
  }
}

async function head(name: string, created: string, entries: Entry[]): Promise<ServedHead> {
  const root = await cidOf(`head ${name} ${created}`)
  const record = { name, version: '1', seq: 1, created, root: root.toString() } as unknown as HeadRecord
  return { record, root, entries }
}

test('Accept: types named, q=0 refused, wildcards and no header accept anything', (t) => {
  t.is(parseAccept(undefined), 'any')
  t.is(parseAccept('*/*'), 'any')
  t.is(parseAccept(`${OCI_MANIFEST}, application/*;q=0.1`), 'any')
  t.deepEqual(
    parseAccept([`${OCI_INDEX};q=0`, ` ${OCI_MANIFEST} ; q=0.5,${DOCKER_MANIFEST}`]),
    new Set([OCI_MANIFEST, DOCKER_MANIFEST]),
  )
})

test('names: the grammar, digests and references checked with the spec codes', (t) => {
  t.notThrows(() => checkName('library/busybox'))
  t.notThrows(() => checkName('reg.example:5000/team/app'))
  const code = (fn: () => unknown) => (t.throws(fn, { instanceOf: RegistryError }) as RegistryError).code
  t.is(
    code(() => checkName('Library/busybox')),
    'NAME_INVALID',
  )
  t.is(
    code(() => checkName('reg.example:5000')),
    'NAME_INVALID',
  )
  t.is(
    code(() => checkName('a//b')),
    'NAME_INVALID',
  )
  t.is(
    code(() => checkDigest('sha256:abc')),
    'DIGEST_INVALID',
  )
  t.is(
    code(() => checkDigest('sha256')),
    'DIGEST_INVALID',
  )
  t.is(checkDigest(`sha512:${'a'.repeat(128)}`), `sha512:${'a'.repeat(128)}`)
  t.deepEqual(parseReference('1.36'), { tag: '1.36' })
  t.deepEqual(parseReference(digestOf(1)), { digest: digestOf(1) })
  t.is(
    code(() => parseReference('-x')),
    'MANIFEST_INVALID',
  )
  t.is(namespaceOf('registry-1.docker.io'), 'docker.io')
  t.is(namespaceOf(null), undefined)
  t.is(
    code(() => namespaceOf('not a host')),
    'NAME_INVALID',
  )
})

test('names: ns= alone, else the full name, else docker.io (library/ for one segment)', (t) => {
  t.deepEqual(candidates('team/app', 'reg.example:5000'), ['reg.example:5000/team/app'])
  t.deepEqual(candidates('busybox', 'docker.io'), ['docker.io/busybox', 'docker.io/library/busybox'])
  t.deepEqual(candidates('library/busybox', undefined), ['docker.io/library/busybox'])
  t.deepEqual(candidates('docker.io/library/busybox', undefined).slice(0, 1), ['docker.io/library/busybox'])
  t.deepEqual(candidates('reg.example:5000/team/app', undefined)[0], 'reg.example:5000/team/app')
})

test('image index: the newest head wins a tag, every digest of every head stays reachable', async (t) => {
  const older = await head('old', '2026-01-01T00:00:00Z', [
    await image('docker.io/library/busybox', '1', 100),
  ])
  const newer = await head('new', '2026-02-01T00:00:00Z', [
    await image('docker.io/library/busybox', '1', 200, { index: true }),
  ])
  const index = new ImageIndex([newer, older])
  const repo = index.find('library/busybox', undefined)!
  t.is(repo.tags.get('1')?.digest, digestOf(200))
  for (const n of [100, 200, 210, 211]) t.true(repo.manifests.has(digestOf(n)), `manifest ${n}`)
  t.is(repo.manifests.get(digestOf(211))?.platform, 'linux/arm64/v8')
  t.deepEqual([...repo.blobs.keys()].sort(), [digestOf(101), digestOf(201)])
  t.is(index.find('busybox', undefined), repo)
  t.is(index.find('docker.io/library/busybox', undefined), repo)
  t.is(index.find('library/busybox', 'docker.io'), repo)
  t.is(index.find('library/busybox', 'reg.example:5000'), undefined)
})

test('image index: within one head an index wins a tag over a single manifest', async (t) => {
  const one = await head('h', '2026-01-01T00:00:00Z', [
    await image('reg.example:5000/team/app', '1', 300),
    await image('reg.example:5000/team/app', '1', 400, { index: true }),
    await image('reg.example:5000/team/app', '1', 500),
  ])
  t.is(new ImageIndex([one]).find('team/app', undefined)?.tags.get('1')?.digest, digestOf(400))
})

test('image index: another registry by path (newest head first), docker.io first, full names and ns= exact', async (t) => {
  const older = await head('a', '2026-01-01T00:00:00Z', [await image('a.example:5000/team/app', '1', 600)])
  const newer = await head('b', '2026-02-01T00:00:00Z', [
    await image('b.example/team/app', '2', 700),
    await image('docker.io/team/hub', '1', 800),
  ])
  let index = new ImageIndex([newer, older])
  t.is(index.find('team/app', undefined)?.name, 'b.example/team/app')
  t.is(index.find('a.example:5000/team/app', undefined)?.name, 'a.example:5000/team/app')
  t.is(index.find('team/app', 'a.example:5000')?.name, 'a.example:5000/team/app')
  t.is(index.find('team/hub', 'b.example'), undefined)
  t.deepEqual(index.catalog(), ['a.example:5000/team/app', 'b.example/team/app', 'team/hub'])
  // docker.io's repository of that path answers before another registry's.
  const hub = await head('c', '2026-03-01T00:00:00Z', [await image('docker.io/team/app', '3', 900)])
  index = new ImageIndex([hub, newer, older])
  t.is(index.find('team/app', undefined)?.name, 'docker.io/team/app')
  // Entries that are no images are not in it.
  const file = {
    kind: 'file',
    module: 'm',
    name: 'f',
    size: 1,
    sha256: '00',
    root: await cidOf('f'),
  } as Entry
  t.deepEqual(new ImageIndex([await head('f', '2026-01-01T00:00:00Z', [file])]).catalog(), [])
})

test('the index is built once per set of heads: the same until the catalog hands out new heads', async (t) => {
  let heads = [await head('h', '2026-01-01T00:00:00Z', [await image('docker.io/library/x', '1', 1000)])]
  const catalog = { heads: async () => heads } as unknown as ServeCatalog
  const images = new RegistryImages(catalog)
  const first = await images.index()
  t.is(await images.index(), first)
  heads = [...heads]
  const second = await images.index()
  t.not(second, first)
  t.is(await images.index(), second)
})
