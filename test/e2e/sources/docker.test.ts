import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { dockerSource } from '../../../daemon/sources/docker/index.js'
import type { RequirementItem } from '../../../daemon/sources/index.js'
import { type CID, type ImageEntry, readFile, type Store } from '../../../store/index.js'
import { ferry, ferryJson, pseudoRandom } from '../../helpers/cli.js'
import { importImage, saveImage } from '../../helpers/services/docker-images.js'
import { startDockerd, type TestDockerd } from '../../helpers/services/dockerd.js'
import { testSourceContext } from '../../helpers/source-context.js'
import { newStore, testDir } from '../../helpers/store.js'

/*
 * The docker source against a real engine (a private dockerd), with images
 * made offline by `docker import` of rootfs tarballs the test writes.
 */

const MODULE_IMAGE = 'ferry/test-module:1.0'
const OTHER_IMAGE = 'ferry/other-module:2.0'
const FILE = '/srv/modules/kafka/requirements.yaml'

let dockerd: TestDockerd | undefined

test.before(async () => {
  dockerd = await startDockerd()
  await importImage(dockerd, MODULE_IMAGE, {
    'etc/hello.txt': new TextEncoder().encode('hello from ferry\n'),
    'opt/data/random.bin': pseudoRandom(700 * 1024 + 3, 'docker module layer'),
  })
  await importImage(dockerd, OTHER_IMAGE, { 'srv/other.bin': pseudoRandom(5000, 'other module layer') })
})

test.after.always(async () => {
  await dockerd?.stop()
})

function item(ref: string, field = 'images[0]', extra: { platform?: string } = {}): RequirementItem {
  return { kind: 'image', module: 'kafka', file: FILE, field, requirement: { ref, from: 'docker', ...extra } }
}

async function bytesAt(store: Store, root: CID): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of readFile(store.blocks, root)) chunks.push(chunk)
  return new Uint8Array(Buffer.concat(chunks))
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

test('entries hold what docker save holds, in OCI form; a second fetch finds every blob held', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const fetchBoth = async () => {
    const context = testSourceContext(store, { dockerHost: dockerd!.host })
    const items = [item(MODULE_IMAGE), item(OTHER_IMAGE, 'images[1]')]
    const fetched = (await dockerSource().fetch(items, context.ctx)) as unknown as ImageEntry[]
    return { entries: fetched, report: context.report }
  }
  const { entries, report } = await fetchBoth()
  t.deepEqual(
    entries.map((e) => [e.name, e.repository, e.tag, e.platform]),
    [
      ['docker.io/ferry/test-module:1.0', 'docker.io/ferry/test-module', '1.0', 'linux/amd64'],
      ['docker.io/ferry/other-module:2.0', 'docker.io/ferry/other-module', '2.0', 'linux/amd64'],
    ],
  )
  for (const [i, ref] of [MODULE_IMAGE, OTHER_IMAGE].entries()) {
    const entry = entries[i]
    const saved = await saveImage(dockerd!, ref)
    // The manifest at the root is what the entry says, and names exactly the saved config and layers.
    const manifestBytes = await bytesAt(store, entry.root)
    t.is(entry.sha256, sha256(manifestBytes))
    t.is(entry.digest, `sha256:${entry.sha256}`)
    t.is(entry.size, manifestBytes.byteLength)
    const manifest = JSON.parse(Buffer.from(manifestBytes).toString())
    t.is(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json')
    t.is(entry.mediaType, manifest.mediaType)
    t.deepEqual(manifest.config, {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: saved.config.digest,
      size: saved.config.bytes.byteLength,
    })
    t.deepEqual(
      manifest.layers,
      saved.layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: l.digest,
        size: l.bytes.byteLength,
      })),
    )
    // Every blob in the store is byte-equal to the save's.
    const blobs = new Map(entry.blobs.map((b) => [b.digest, b]))
    t.deepEqual(await bytesAt(store, blobs.get(saved.config.digest)!.root), saved.config.bytes)
    for (const layer of saved.layers)
      t.deepEqual(await bytesAt(store, blobs.get(layer.digest)!.root), layer.bytes)
    t.is(entry.blobs.length, 1 + saved.layers.length)
  }
  t.true([...report.finished.values()].every((f) => f.how === 'fetched'))

  // Verified blobs are kept at once (not only when a release is published): a second fetch reads nothing.
  const { entries: again, report: second } = await fetchBoth()
  t.deepEqual(
    again.map((e) => e.root.toString()),
    entries.map((e) => e.root.toString()),
  )
  t.is(second.finished.size, 4)
  t.true([...second.finished.values()].every((f) => f.how === 'held'))
})

test('an image the engine does not have is ERR_NOT_FOUND, naming the item', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const { ctx } = testSourceContext(store, { dockerHost: dockerd!.host })
  const error = await t.throwsAsync(dockerSource().fetch([item('ferry/absent:9.9', 'images[3]')], ctx), {
    code: 'ERR_NOT_FOUND',
  } as never)
  t.true(error!.message.startsWith(`${FILE}: images[3]: ferry/absent:9.9: `), error!.message)
})

test('an engine that does not answer is ERR_UNREACHABLE, naming its socket', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  for (const host of [`unix://${dir}/no-engine.sock`, 'tcp://127.0.0.1:1']) {
    const { ctx } = testSourceContext(store, { dockerHost: host })
    const error = await t.throwsAsync(dockerSource().fetch([item(MODULE_IMAGE)], ctx), {
      code: 'ERR_UNREACHABLE',
    } as never)
    t.true(error!.message.includes(host), error!.message)
    t.true(error!.message.includes('DOCKER_HOST'), error!.message)
  }
})

test('an image of another platform than asked for is ERR_PLATFORM_NOT_FOUND', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const { ctx } = testSourceContext(store, { dockerHost: dockerd!.host })
  await t.throwsAsync(
    dockerSource().fetch([item(MODULE_IMAGE, 'images[0]', { platform: 'linux/arm64' })], ctx),
    {
      code: 'ERR_PLATFORM_NOT_FOUND',
    } as never,
  )
})

interface Summary {
  type: 'summary'
  entries: number
  fetched: number
  held: number
}

test('ferry download of a from: docker image (DOCKER_HOST) publishes it in OCI form; a second download holds all', async (t) => {
  const dir = await testDir(t)
  const store = join(dir, 'store')
  await ferryJson(['init', '--store', store])
  const requirements = join(dir, 'requirements.yaml')
  await writeFile(
    requirements,
    `module: kafka\nversion: "1.0"\nimages:\n  - ref: ${MODULE_IMAGE}\n    from: docker\n`,
  )
  const env = { DOCKER_HOST: dockerd!.host }
  const download = async (version: string) => {
    const run = await ferry(
      ['download', requirements, '--name', 'platform', '--version', version, '--store', store, '--json'],
      { env },
    )
    t.is(run.code, 0, run.stderr)
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Summary
  }
  const first = await download('1')
  t.like(first, { type: 'summary', entries: 1, held: 0 })
  const saved = await saveImage(dockerd!, MODULE_IMAGE)
  // Config and every layer fetched (the generated manifest is no artefact of the engine's).
  t.is(first.fetched, 1 + saved.layers.length)

  const [entry] = await ferryJson<Array<{ kind: string; name: string; sha256: string }>>([
    'ls',
    'platform',
    '--store',
    store,
  ])
  t.like(entry, { kind: 'image', name: 'docker.io/ferry/test-module:1.0' })
  const manifest = await ferry(['cat', 'platform/kafka/docker.io/ferry/test-module:1.0', '--store', store])
  t.is(sha256(manifest.bytes), entry.sha256)
  const parsed = JSON.parse(manifest.stdout)
  t.is(parsed.config.digest, saved.config.digest)
  t.deepEqual(
    parsed.layers.map((l: { digest: string }) => l.digest),
    saved.layers.map((l) => l.digest),
  )
  t.is((await ferry(['verify', '--store', store])).code, 0)

  const second = await download('2')
  t.like(second, { entries: 1, fetched: 0, held: first.fetched })
})
