import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { HttpClient } from '../../../daemon/sources/net/http-client.js'
import { RegistrySource } from '../../../daemon/sources/registry/index.js'
import type { ImageEntry, Store } from '../../../store/index.js'
import { tempDir } from '../../helpers/cli.js'
import { assertStored, imageItem } from '../../helpers/services/images.js'
import { type BuiltImage, writeOciLayout } from '../../helpers/services/oci-layout.js'
import {
  freePort,
  inspectDigest,
  pushLayout,
  startRegistry,
  type TestRegistry,
} from '../../helpers/services/registry.js'
import { startRegistryProxy } from '../../helpers/services/registry-proxy.js'
import { testSourceContext } from '../../helpers/source-context.js'
import { newStore, testDir } from '../../helpers/store.js'

/*
 * The registry source against a real docker-registry on loopback (plain
 * HTTP, as a 127.0.0.1 registry is spoken to by default), filled by skopeo
 * from OCI layouts built here: one single-platform image and one index over
 * linux/amd64 and linux/arm64. Digests pulled must be those skopeo reads.
 */

interface Fixture {
  registry: TestRegistry
  single: BuiltImage
  multi: BuiltImage
  /** What skopeo reads for ferry/single:1 and ferry/multi:1. */
  singleDigest: string
  multiDigest: string
}

const cleanups: Array<() => Promise<void> | void> = []
let fixture: Fixture

test.before(async () => {
  const { dir, cleanup } = await tempDir('ferry-registry-e2e-')
  cleanups.push(cleanup)
  const registry = await startRegistry({ teardown: (fn) => cleanups.push(fn) }, join(dir, 'registry'))
  const single = await writeOciLayout(join(dir, 'single'), '1', { platforms: ['linux/amd64'] })
  const multi = await writeOciLayout(join(dir, 'multi'), '1', { platforms: ['linux/amd64', 'linux/arm64'] })
  await pushLayout(registry, join(dir, 'single'), '1', 'ferry/single')
  await pushLayout(registry, join(dir, 'multi'), '1', 'ferry/multi')
  fixture = {
    registry,
    single,
    multi,
    singleDigest: await inspectDigest(registry, 'ferry/single:1'),
    multiDigest: await inspectDigest(registry, 'ferry/multi:1'),
  }
})

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

/** The source, with no docker config.json (the machine's own must not count). */
const source = () => new RegistrySource({ dockerConfig: '/nonexistent/docker/config.json' })

async function store(t: ExecutionContext): Promise<Store> {
  return newStore(t, await testDir(t), 'store')
}

function blobDigests(built: BuiltImage, platform: string): string[] {
  const image = built.platforms.get(platform)!
  return [image.config.digest, ...image.layers.map((l) => l.digest)]
}

test('by tag: the manifest skopeo reads, its config and layers, each stored as its digest', async (t) => {
  const s = await store(t)
  const { ctx, report } = testSourceContext(s)
  const [entry] = (await source().fetch(
    [imageItem(`${fixture.registry.host}/ferry/single:1`)],
    ctx,
  )) as unknown as ImageEntry[]
  t.is(fixture.singleDigest, fixture.single.top.digest, 'skopeo kept the layout digest')
  t.like(entry, {
    kind: 'image',
    module: 'm',
    name: `${fixture.registry.host}/ferry/single:1`,
    ref: `${fixture.registry.host}/ferry/single:1`,
    repository: `${fixture.registry.host}/ferry/single`,
    tag: '1',
    platform: 'linux/amd64',
    digest: fixture.singleDigest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: fixture.single.top.size,
  })
  t.is(entry.manifests, undefined)
  t.deepEqual(
    entry.blobs.map((b) => b.digest),
    blobDigests(fixture.single, 'linux/amd64'),
  )
  await assertStored(t, s, entry)
  const finished = [...report.finished.values()]
  t.is(finished.length, 1 + 3, 'the manifest, the config and two layers')
  t.true(finished.every((f) => f.how === 'fetched'))
})

test('by digest: the same manifest, its name pinned by the digest', async (t) => {
  const s = await store(t)
  const { ctx } = testSourceContext(s)
  const ref = `${fixture.registry.host}/ferry/single@${fixture.singleDigest}`
  const [entry] = (await source().fetch([imageItem(ref)], ctx)) as unknown as ImageEntry[]
  t.like(entry, { name: ref, digest: fixture.singleDigest, tag: undefined })
  await assertStored(t, s, entry)
})

for (const platform of ['linux/amd64', 'linux/arm64']) {
  test(`an index resolved to ${platform}: that platform's manifest and blobs only`, async (t) => {
    const s = await store(t)
    const { ctx } = testSourceContext(s)
    const ref = `${fixture.registry.host}/ferry/multi:1`
    const [entry] = (await source().fetch([imageItem(ref, { platform })], ctx)) as unknown as ImageEntry[]
    const manifest = fixture.multi.platforms.get(platform)!.manifest
    t.is(
      await inspectDigest(fixture.registry, `ferry/multi@${manifest.digest}`),
      manifest.digest,
      'skopeo reads the same',
    )
    t.like(entry, { platform, digest: manifest.digest, size: manifest.size, name: ref })
    t.deepEqual(
      entry.blobs.map((b) => b.digest),
      blobDigests(fixture.multi, platform),
    )
    await assertStored(t, s, entry)
  })
}

test('the platform of the settings when the item says none', async (t) => {
  const s = await store(t)
  const { ctx } = testSourceContext(s, { platform: 'linux/arm64' })
  const [entry] = (await source().fetch(
    [imageItem(`${fixture.registry.host}/ferry/multi:1`)],
    ctx,
  )) as unknown as ImageEntry[]
  t.is(entry.digest, fixture.multi.platforms.get('linux/arm64')!.manifest.digest)
})

test('platform: all keeps the index, both manifests and every blob; a second fetch holds everything, 0 bytes, no blob asked', async (t) => {
  const s = await store(t)
  const proxy = await startRegistryProxy(t, fixture.registry.host)
  const item = imageItem(`${proxy.host}/ferry/multi:1`, { platform: 'all' })
  const first = testSourceContext(s)
  const entries = await source().fetch([item], first.ctx)
  const entry = entries[0] as unknown as ImageEntry
  t.like(entry, {
    platform: 'all',
    digest: fixture.multiDigest,
    mediaType: 'application/vnd.oci.image.index.v1+json',
  })
  t.deepEqual(
    entry.manifests?.map((m) => [m.platform, m.digest]),
    ['linux/amd64', 'linux/arm64'].map((p) => [p, fixture.multi.platforms.get(p)!.manifest.digest]),
  )
  t.deepEqual(
    entry.blobs.map((b) => b.digest),
    [...blobDigests(fixture.multi, 'linux/amd64'), ...blobDigests(fixture.multi, 'linux/arm64')],
  )
  await assertStored(t, s, entry)

  // Every manifest and blob was kept as it was verified: the store knows them whole now.
  const before = s.blocks.written()
  const asked = proxy.requests.length
  const second = testSourceContext(s)
  const again = (await source().fetch([item], second.ctx)) as unknown as ImageEntry[]
  // The same entry (CIDs compared as text: one side's digests are Buffers).
  t.is(JSON.stringify(again), JSON.stringify([entry]))
  t.deepEqual(s.blocks.written(), before, 'nothing stored')
  const finished = [...second.report.finished.values()]
  t.is(finished.length, 1 + 2 + 6)
  t.true(
    finished.every((f) => f.how === 'held'),
    JSON.stringify([...second.report.finished]),
  )
  t.deepEqual(
    proxy.requests.slice(asked).filter((r) => r.includes('/blobs/')),
    [],
  )
  t.deepEqual(
    proxy.requests.slice(asked).filter((r) => r.includes('/manifests/')),
    ['GET /v2/ferry/multi/manifests/1'],
    'only the tag is asked again, to resolve it',
  )
})

test('a platform the index lacks is ERR_PLATFORM_NOT_FOUND naming the item and the platforms there', async (t) => {
  const s = await store(t)
  const { ctx } = testSourceContext(s)
  const ref = `${fixture.registry.host}/ferry/multi:1`
  const err = await t.throwsAsync(source().fetch([imageItem(ref, { platform: 'linux/s390x' })], ctx))
  t.is((err as { code?: string }).code, 'ERR_PLATFORM_NOT_FOUND')
  t.regex(err!.message, /requirements\.yaml: images\[0\] \(127\.0\.0\.1:\d+\/ferry\/multi:1\): /)
  t.regex(err!.message, /no manifest for linux\/s390x; the index has linux\/amd64, linux\/arm64/)
})

test('a single-platform image asked for another platform is ERR_PLATFORM_NOT_FOUND (its config says which it is)', async (t) => {
  const s = await store(t)
  const { ctx } = testSourceContext(s)
  const ref = `${fixture.registry.host}/ferry/single:1`
  const err = await t.throwsAsync(source().fetch([imageItem(ref, { platform: 'linux/arm64' })], ctx))
  t.is((err as { code?: string }).code, 'ERR_PLATFORM_NOT_FOUND')
  t.regex(err!.message, /for linux\/amd64 only, not linux\/arm64/)
})

test('a tag or repository the registry lacks is ERR_NOT_FOUND naming the item', async (t) => {
  const s = await store(t)
  const { ctx } = testSourceContext(s)
  for (const ref of [`${fixture.registry.host}/ferry/single:nope`, `${fixture.registry.host}/ferry/none:1`]) {
    const err = await t.throwsAsync(source().fetch([imageItem(ref)], ctx))
    t.is((err as { code?: string }).code, 'ERR_NOT_FOUND', ref)
    t.true(err!.message.includes(`(${ref})`), err!.message)
  }
})

test('a blob whose bytes are not its digest is ERR_DIGEST_MISMATCH naming the item and digest', async (t) => {
  const s = await store(t)
  const proxy = await startRegistryProxy(t, fixture.registry.host, { tamper: /\/blobs\/sha256:/ })
  const { ctx } = testSourceContext(s)
  const ref = `${proxy.host}/ferry/single:1`
  const err = await t.throwsAsync(source().fetch([imageItem(ref)], ctx))
  t.is((err as { code?: string }).code, 'ERR_DIGEST_MISMATCH')
  t.true(err!.message.includes(`(${ref})`), err!.message)
  t.regex(err!.message, /the bytes served have digest sha256:[0-9a-f]{64}, not sha256:/)
})

test('a manifest whose bytes are not the digest the registry announces is ERR_DIGEST_MISMATCH', async (t) => {
  const s = await store(t)
  const proxy = await startRegistryProxy(t, fixture.registry.host, { tamper: /\/manifests\// })
  const { ctx } = testSourceContext(s)
  const err = await t.throwsAsync(source().fetch([imageItem(`${proxy.host}/ferry/single:1`)], ctx))
  t.is((err as { code?: string }).code, 'ERR_DIGEST_MISMATCH')
  t.regex(
    err!.message,
    new RegExp(`the manifest served has digest sha256:[0-9a-f]{64}, not ${fixture.singleDigest}`),
  )
})

test('an unreachable registry is ERR_UNREACHABLE naming the item', async (t) => {
  const s = await store(t)
  const { ctx } = testSourceContext(s)
  const unreachable = new RegistrySource({
    dockerConfig: '/nonexistent/docker/config.json',
    http: (options) => new HttpClient({ ...options, retries: 0 }),
  })
  const ref = `127.0.0.1:${await freePort()}/ferry/single:1`
  const err = await t.throwsAsync(unreachable.fetch([imageItem(ref)], ctx))
  t.is((err as { code?: string }).code, 'ERR_UNREACHABLE')
  t.true(err!.message.includes(`(${ref})`), err!.message)
})
