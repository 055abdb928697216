import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import test, { type ExecutionContext } from 'ava'
import type { Engine } from '../../../../../daemon/sources/docker/engine.js'
import { partsFromSave } from '../../../../../daemon/sources/docker/from-save.js'
import type { Run } from '../../../../../daemon/sources/docker/parts.js'
import { readSave } from '../../../../../daemon/sources/docker/save-reader.js'
import { type CID, readFile, type Store } from '../../../../../store/index.js'
import { pseudoRandom } from '../../../../helpers/cli.js'
import {
  imageConfig,
  legacySave,
  ociSave,
  type SyntheticImage,
  sha256hex,
  tarOf,
} from '../../../../helpers/docker-save.js'
import { type SourceReport, testSourceContext } from '../../../../helpers/source-context.js'
import { newStore, testDir } from '../../../../helpers/store.js'

/** Three layers: one large (streamed), one small (kept, then stored), the large one again. */
function image(): SyntheticImage {
  const large = pseudoRandom(300 * 1024 + 5, 'large layer')
  const small = pseudoRandom(1500, 'small layer')
  return { layers: [large, small, large] }
}

async function setup(t: ExecutionContext): Promise<{ run: Run; store: Store; report: SourceReport }> {
  const store = await newStore(t, await testDir(t), 'store')
  const { ctx, report } = testSourceContext(store)
  return { run: { ctx, engine: {} as Engine, fetched: new Map() }, store, report }
}

const parse = (run: Run, save: Uint8Array, heldSizes?: Set<number>) =>
  partsFromSave(run, {
    save: async () => Readable.from([save]),
    labelOf: (what) => what,
    platform: 'linux/amd64',
    heldSizes,
    signal: new AbortController().signal,
  })

async function bytesAt(store: Store, root: CID): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of readFile(store.blocks, root)) chunks.push(chunk)
  return new Uint8Array(Buffer.concat(chunks))
}

/** The parts are the image's bytes, in the store, in order. */
async function assertParts(t: ExecutionContext, store: Store, parts: Awaited<ReturnType<typeof parse>>) {
  const { layers } = image()
  const config = imageConfig(image())
  t.is(parts.config.sha256, sha256hex(config))
  t.deepEqual(await bytesAt(store, parts.config.root), config)
  t.deepEqual(parts.configBytes, config)
  t.is(parts.parsed.platform, 'linux/amd64')
  t.deepEqual(
    parts.layers.map((l) => l.sha256),
    layers.map(sha256hex),
  )
  for (const [i, layer] of parts.layers.entries()) {
    t.is(layer.size, layers[i].byteLength)
    t.deepEqual(await bytesAt(store, layer.root), layers[i])
  }
}

test('legacy docker-archive layout: layers streamed, a repeated layer through its symlink, config kept', async (t) => {
  const { run, store, report } = await setup(t)
  await store.blocks.flush()
  const parts = await parse(run, await legacySave(image()))
  await store.blocks.flush()
  await assertParts(t, store, parts)
  // Two layer.tar files and the config went into the store; the symlink was not read twice.
  t.deepEqual(
    [...report.finished.values()].map((f) => f.how),
    ['fetched', 'fetched', 'fetched'],
  )
})

test('OCI layout with manifest.json (engines ≥ 25), then again with every blob held: read past', async (t) => {
  const { run, store, report } = await setup(t)
  const save = await ociSave(image())
  const first = await parse(run, save)
  await store.blocks.flush()
  await assertParts(t, store, first)
  t.true([...report.finished.values()].every((f) => f.how === 'fetched'))
  report.finished.clear()
  await store.blocks.flush()
  await assertParts(t, store, await parse(run, save))
  t.is(report.finished.size, 3)
  t.true([...report.finished.values()].every((f) => f.how === 'held'))
})

test('OCI layout without manifest.json: found through index.json', async (t) => {
  const { run, store } = await setup(t)
  const parts = await parse(run, await ociSave(image(), { manifestJson: false }))
  await store.blocks.flush()
  await assertParts(t, store, parts)
})

test('readSave keeps only metadata and small blobs in memory', async (t) => {
  const ingested: string[] = []
  const contents = await readSave(Readable.from([await ociSave(image())]), {
    isHeld: async () => false,
    ingest: async (path, size, bytes) => {
      ingested.push(path)
      for await (const _ of bytes) {
        // read past
      }
      return { sha256: path.slice(-64), size, root: undefined as unknown as CID }
    },
  })
  t.deepEqual(ingested, [`blobs/sha256/${sha256hex(image().layers[0])}`])
  t.true([...contents.kept.values()].every((bytes) => bytes.byteLength <= 64 * 1024))
  t.true(contents.kept.has('index.json'))
})

test('a save stream that ends inside a layer, or before its manifest, is ERR_TRUNCATED', async (t) => {
  const { run } = await setup(t)
  const save = await legacySave(image())
  await t.throwsAsync(parse(run, save.subarray(0, 200 * 1024)), { code: 'ERR_TRUNCATED' } as never)
  const layerOnly = await tarOf([{ name: 'abc/layer.tar', bytes: image().layers[1] }])
  // A tar that ends cleanly on an entry, but before any manifest.json or index.json.
  await t.throwsAsync(parse(run, layerOnly), { code: 'ERR_TRUNCATED' } as never)
})

test('a layer that is not its diff_id, or a blob that is not its name, is ERR_DIGEST_MISMATCH', async (t) => {
  const { run } = await setup(t)
  const wrongIds = imageConfig(image(), [
    `sha256:${'1'.repeat(64)}`,
    `sha256:${sha256hex(image().layers[1])}`,
    `sha256:${sha256hex(image().layers[0])}`,
  ])
  const legacy = await legacySave(image(), wrongIds)
  const error = await t.throwsAsync(parse(run, legacy), { code: 'ERR_DIGEST_MISMATCH' } as never)
  t.regex(error!.message, /layer 0/)
  // A fresh run: this one holds the small layer now, so would read past its blob.
  const { run: fresh } = await setup(t)
  await t.throwsAsync(parse(fresh, await ociSave(image(), { corrupt: 1 })), {
    code: 'ERR_DIGEST_MISMATCH',
  } as never)
})

test('legacy layout: a layer of a held size is hashed, not stored; another of that size means a second save', async (t) => {
  const { run, store, report } = await setup(t)
  const save = await legacySave(image())
  await parse(run, save)
  await store.blocks.flush()
  report.finished.clear()
  const sizes = new Set(image().layers.map((l) => l.byteLength))
  const written = store.blocks.written()
  await assertParts(t, store, await parse(run, save, sizes))
  t.deepEqual(store.blocks.written(), written)
  t.true([...report.finished.values()].every((f) => f.how === 'held'))

  // A new layer of a held layer's size: read past as held, it turns out not to be; the save is read again.
  const other: SyntheticImage = {
    layers: [pseudoRandom(image().layers[0].byteLength, 'same size, other bytes')],
  }
  let saves = 0
  const parts = await partsFromSave(run, {
    save: async () => {
      saves++
      return Readable.from([await legacySave(other)])
    },
    labelOf: (what) => what,
    platform: 'linux/amd64',
    heldSizes: sizes,
    signal: new AbortController().signal,
  })
  t.is(saves, 2)
  t.is(parts.layers[0].sha256, sha256hex(other.layers[0]))
  await store.blocks.flush()
  t.deepEqual(await bytesAt(store, parts.layers[0].root), other.layers[0])
  t.regex(report.notes.at(-1)?.message ?? '', /saving the image again/)
})

test('OCI layout with gzip layers (containerd image store): kept compressed, checked against diff_ids uncompressed', async (t) => {
  const { run, store } = await setup(t)
  const parts = await parse(run, await ociSave(image(), { gzip: true }))
  await store.blocks.flush()
  t.deepEqual(parts.layerTypes, Array(3).fill('application/vnd.oci.image.layer.v1.tar+gzip'))
  for (const [i, layer] of image().layers.entries()) {
    const stored = await bytesAt(store, parts.layers[i].root)
    t.is(parts.layers[i].sha256, sha256hex(stored))
    t.deepEqual(new Uint8Array(gunzipSync(stored)), layer)
  }
  const { run: fresh } = await setup(t)
  // Named right, but not what the config's diff_id says once uncompressed.
  const [large, small] = image().layers.map((l) => `sha256:${sha256hex(l)}`)
  const config = imageConfig(image(), [large, large, large])
  const error = await t.throwsAsync(parse(fresh, await ociSave(image(), { gzip: true, config })), {
    code: 'ERR_DIGEST_MISMATCH',
  } as never)
  t.true(error!.message.includes(`uncompressed ${small}`), error!.message)
})

test('stopping while a layer streams throws the signal reason and stops reading the save', async (t) => {
  const { run } = await setup(t)
  const stop = new AbortController()
  const reason = new Error('stopped by the test')
  const save = Readable.from(
    (async function* () {
      const bytes = await legacySave(image())
      for (let at = 0; at < bytes.byteLength; at += 16 * 1024) {
        if (at > 100 * 1024) stop.abort(reason)
        yield bytes.subarray(at, at + 16 * 1024)
      }
    })(),
  )
  const error = await t.throwsAsync(
    partsFromSave(run, {
      save: async () => save,
      labelOf: (w) => w,
      platform: 'linux/amd64',
      signal: stop.signal,
    }),
  )
  t.is(error, reason)
  t.true(save.destroyed)
})
