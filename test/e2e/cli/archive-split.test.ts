import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import test from 'ava'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  buildRelease,
  carBlocks,
  type ExportSummary,
  type ImportSummary,
  lsHeads,
  MiB,
  trustPublisher,
} from '../../helpers/archive.js'
import { ferry, ferryJson, initStore, pseudoRandom, sha256Hex } from '../../helpers/cli.js'

const SPLIT = '1M'
const SPLIT_BYTES = MiB

test('an archive split in parts: each a valid CAR under the split size, imported in reverse order over separate runs, or as a folder in one', async (t) => {
  const a = await initStore(t)
  const files = [
    { name: 'images/layer.tar', bytes: pseudoRandom(3 * MiB + 5000, 'archive-split/layer') },
    { name: 'bin/tool', bytes: pseudoRandom(MiB + 77, 'archive-split/tool') },
    { name: 'etc/tool.conf', bytes: new TextEncoder().encode('mode: offline\n') },
  ]
  for (const [i, f] of files.entries()) await writeFile(join(a.dir, `f${i}`), f.bytes)
  const built = await buildRelease(a.dir, a.store, {
    name: 'demo',
    version: '3',
    files: files.map((f, i) => ({ name: f.name, path: `f${i}` })),
  })

  const partsDir = join(a.dir, 'parts')
  await mkdir(partsDir)
  const exported = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--out',
    join(partsDir, 'demo.car'),
    '--split',
    SPLIT,
    '--store',
    a.store,
  ])
  const n = exported.parts.length
  t.true(n >= 4, `${n} parts`)
  t.deepEqual(
    exported.parts.map((p) => p.path),
    Array.from({ length: n }, (_, i) => join(partsDir, `demo.car.${String(i + 1).padStart(3, '0')}`)),
  )
  t.deepEqual(
    (await readdir(partsDir)).sort(),
    exported.parts.map((p) => p.path.slice(partsDir.length + 1)),
  )

  // Each part alone: a valid CAR (read by @ipld/car) whose single root is the envelope,
  // first block the root, every block matching its CID, a marker that numbers it,
  // and no bigger than the split size.
  const dataBlocks = new Map<string, number>()
  for (const [i, part] of exported.parts.entries()) {
    const { size } = await stat(part.path)
    t.is(size, part.bytes, `part ${i + 1}: reported size`)
    t.true(size <= SPLIT_BYTES, `part ${i + 1}: ${size} B <= ${SPLIT_BYTES} B`)
    const { roots, blocks } = await carBlocks(part.path)
    t.deepEqual(
      roots.map((r) => r.toString()),
      [exported.envelope],
      `part ${i + 1}: one root, the envelope`,
    )
    t.is(blocks[0].cid.toString(), exported.envelope, `part ${i + 1}: the root is the first block`)
    t.is(blocks.length, part.sections)
    for (const block of blocks) {
      const digest = await sha256.digest(block.bytes)
      if (Buffer.compare(digest.digest, block.cid.multihash.digest) !== 0)
        t.fail(`part ${i + 1}: ${block.cid} does not match its bytes`)
    }
    const envelope = dagCbor.decode<{ type: string; parts: number; heads: unknown[] }>(blocks[0].bytes)
    t.like(envelope, { type: 'envelope', parts: n })
    const marker = dagCbor.decode<{ type: string; index: number; parts: number; sections: number }>(
      blocks[1 + envelope.heads.length].bytes,
    )
    t.like(marker, { type: 'part', index: i + 1, parts: n, sections: blocks.length })
    for (const block of blocks.slice(2 + envelope.heads.length)) {
      const key = block.cid.toString()
      dataBlocks.set(key, (dataBlocks.get(key) ?? 0) + 1)
    }
  }
  t.is(dataBlocks.size, exported.blocks, 'together the parts hold every block')
  t.true(
    [...dataBlocks.values()].every((count) => count === 1),
    'and each in one part only',
  )

  // Site B takes the parts last first, one `ferry import` a day: nothing is published
  // until the last run.
  const b = await initStore(t)
  const key = await trustPublisher(b.store, a.store)
  let newBlocks = 0
  for (let index = n; index >= 1; index--) {
    const results = await ferryJson<ImportSummary[]>([
      'import',
      exported.parts[index - 1].path,
      '--store',
      b.store,
    ])
    t.is(results.length, 1)
    const [result] = results
    t.deepEqual(result.part, { index, parts: n })
    t.is(result.envelope, exported.envelope)
    newBlocks += result.newBlocks
    t.is(result.heads.length, 1)
    const head = result.heads[0]
    if (index > 1) {
      t.is(head.status, 'waiting', `after part ${index}`)
      t.true(head.missingBlocks > 0, `after part ${index}: ${head.missingBlocks} block(s) still missing`)
      t.deepEqual(await lsHeads(b.store), [], `after part ${index}: no head yet`)
    } else {
      t.like(head, { name: 'demo', version: '3', root: built.root, status: 'published', missingBlocks: 0 })
    }
  }
  t.is(newBlocks, exported.blocks, 'every block was stored once over the runs')
  t.deepEqual(await lsHeads(b.store), [
    { name: 'demo', version: '3', seq: 1, root: built.root, publisher: key, complete: true },
  ])
  for (const f of files) {
    const cat = await ferry(['cat', `demo/app/${f.name}`, '--store', b.store])
    t.is(cat.code, 0, cat.stderr)
    t.is(sha256Hex(cat.bytes), sha256Hex(f.bytes), `${f.name}: cat is byte-equal`)
  }
  t.is((await ferry(['verify', '--store', b.store])).code, 0)

  // A part imported again once the head is published: current, nothing new.
  const [again] = await ferryJson<ImportSummary[]>(['import', exported.parts[1].path, '--store', b.store])
  t.like(again, { newBlocks: 0 })
  t.like(again.heads[0], { status: 'current' })

  // Site C takes the whole folder in one run.
  const c = await initStore(t)
  await trustPublisher(c.store, a.store)
  const all = await ferryJson<ImportSummary[]>(['import', partsDir, '--store', c.store])
  t.deepEqual(
    all.map((r) => [r.part.index, r.heads[0].status]),
    Array.from({ length: n }, (_, i) => [i + 1, i + 1 === n ? 'published' : 'waiting']),
  )
  t.is(
    all.reduce((sum, r) => sum + r.newBlocks, 0),
    exported.blocks,
  )
  t.deepEqual(
    (await lsHeads(c.store)).map((h) => [h.name, h.root, h.complete]),
    [['demo', built.root, true]],
  )
  for (const f of files) {
    const cat = await ferry(['cat', `demo/app/${f.name}`, '--store', c.store])
    t.is(sha256Hex(cat.bytes), sha256Hex(f.bytes), `${f.name}: cat is byte-equal`)
  }
  t.is((await ferry(['verify', '--store', c.store])).code, 0)
})

test('parts of two different splits of the same head complete it together, and only at the end', async (t) => {
  const a = await initStore(t)
  await writeFile(join(a.dir, 'f'), pseudoRandom(3 * MiB, 'archive-split/other'))
  await buildRelease(a.dir, a.store, { name: 'demo', version: '1', files: [{ name: 'f', path: 'f' }] })
  const one = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--out',
    join(a.dir, 'one.car'),
    '--split',
    '1M',
    '--store',
    a.store,
  ])
  const two = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--out',
    join(a.dir, 'two.car'),
    '--split',
    '700K',
    '--store',
    a.store,
  ])
  t.not(one.envelope, two.envelope, 'different splits, different envelopes')
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  // Both exports carry the same signed head: part 1 of the first (the larger split,
  // so a superset of the second's part 1) and parts 2.. of the second hold every block.
  const runs = [one.parts[0], ...two.parts.slice(1)]
  for (const [i, part] of runs.entries()) {
    const [r] = await ferryJson<ImportSummary[]>(['import', part.path, '--store', b.store])
    const last = i === runs.length - 1
    t.is(r.heads[0].status, last ? 'published' : 'waiting', part.path)
    t.deepEqual((await lsHeads(b.store)).length, last ? 1 : 0, part.path)
  }
  t.true((await lsHeads(b.store))[0].complete)
  t.is((await ferry(['verify', '--store', b.store])).code, 0)
})
