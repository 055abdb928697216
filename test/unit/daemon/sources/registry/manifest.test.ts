import test from 'ava'
import { parsePlatform } from '../../../../../daemon/sources/image/platform.js'
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  parseManifest,
  selectPlatform,
} from '../../../../../daemon/sources/registry/manifest.js'

const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

const index = {
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    { mediaType: OCI_MANIFEST, digest: d(1), size: 10, platform: { os: 'linux', architecture: 'amd64' } },
    {
      mediaType: OCI_MANIFEST,
      digest: d(2),
      size: 11,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    },
    { mediaType: OCI_MANIFEST, digest: d(3), size: 12, platform: { os: 'unknown', architecture: 'unknown' } },
  ],
}

test('an index is read by its mediaType, or by its shape, or by the Content-Type served', (t) => {
  t.like(parseManifest(bytes(index), undefined, 'x'), { kind: 'index', mediaType: OCI_INDEX })
  const { mediaType: _, ...bare } = index
  t.like(parseManifest(bytes(bare), undefined, 'x'), { kind: 'index', mediaType: OCI_INDEX })
  t.like(parseManifest(bytes(bare), `${DOCKER_LIST}; charset=utf-8`, 'x'), {
    kind: 'index',
    mediaType: DOCKER_LIST,
  })
})

test('a manifest gives its config and layers', (t) => {
  const manifest = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: d(7), size: 100 },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d(8), size: 200 }],
  }
  const parsed = parseManifest(bytes(manifest), 'application/json', 'x')
  t.is(parsed.kind, 'manifest')
  if (parsed.kind !== 'manifest') return
  t.is(parsed.mediaType, DOCKER_MANIFEST)
  t.is(parsed.config.digest, d(7))
  t.deepEqual(
    parsed.layers.map((l) => l.size),
    [200],
  )
})

test('schema 1, junk and out-of-shape documents are ERR_PROTOCOL', (t) => {
  const v1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws'
  for (const [body, type, why] of [
    [bytes({ schemaVersion: 1, name: 'x' }), v1, /does not take/],
    [new TextEncoder().encode('<html>'), undefined, /not JSON/],
    [
      bytes({ mediaType: OCI_MANIFEST, config: { digest: 'sha256:12', size: 1 }, layers: [] }),
      undefined,
      /config\.digest/,
    ],
  ] as const) {
    const err = t.throws(() => parseManifest(body, type, 'where'))
    t.is((err as { code?: string }).code, 'ERR_PROTOCOL')
    t.regex(err!.message, /^where: /)
    t.regex(err!.message, why)
  }
})

test('an index resolves to the platform asked; none is ERR_PLATFORM_NOT_FOUND listing those there', (t) => {
  const parsed = parseManifest(bytes(index), undefined, 'x')
  if (parsed.kind !== 'index') return t.fail()
  t.is(selectPlatform(parsed.manifests, parsePlatform('linux/amd64'), 'x').digest, d(1))
  t.is(selectPlatform(parsed.manifests, parsePlatform('linux/arm64'), 'x').digest, d(2))
  const err = t.throws(() => selectPlatform(parsed.manifests, parsePlatform('linux/s390x'), 'reg/x:1'))
  t.is((err as { code?: string }).code, 'ERR_PLATFORM_NOT_FOUND')
  t.is(
    err!.message,
    'reg/x:1: no manifest for linux/s390x; the index has linux/amd64, linux/arm64/v8, unknown/unknown',
  )
})
