import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  lsEntries,
  lsHeads,
  MiB,
  trustPublisher,
} from '../../helpers/archive.js'
import { ferry, ferryJson, initStore, pseudoRandom, sha256Hex } from '../../helpers/cli.js'

/** Files of every shape: empty, one byte, one chunk, many chunks, nested names. */
const FILES: Array<{ name: string; bytes: Uint8Array }> = [
  { name: 'empty.txt', bytes: new Uint8Array(0) },
  { name: 'one.bin', bytes: new Uint8Array([7]) },
  { name: 'conf/app.yaml', bytes: new TextEncoder().encode('replicas: 3\nimage: app:1.0\n') },
  { name: 'lib/small.bin', bytes: pseudoRandom(40 * 1024, 'archive-roundtrip/small') },
  { name: 'lib/deep/nested/big.bin', bytes: pseudoRandom(5 * MiB + 12345, 'archive-roundtrip/big') },
]

async function publisherWithRelease(t: Parameters<typeof initStore>[0]) {
  const a = await initStore(t)
  await mkdir(join(a.dir, 'data'))
  const files = []
  for (const [i, f] of FILES.entries()) {
    await writeFile(join(a.dir, 'data', `f${i}`), f.bytes)
    files.push({ name: f.name, path: `data/f${i}` })
  }
  const built = await buildRelease(a.dir, a.store, { name: 'demo', version: '1.0', files })
  return { ...a, built }
}

test('export, carry, import: every entry cats byte-equal, verify passes, the head is complete; re-import is a no-op', async (t) => {
  const a = await publisherWithRelease(t)
  const b = await initStore(t)
  const key = await trustPublisher(b.store, a.store)

  const archive = join(a.dir, 'demo.car')
  const exported = await ferryJson<ExportSummary>(['export', 'demo', '--out', archive, '--store', a.store])
  t.is(exported.parts.length, 1)
  t.is(exported.parts[0].path, archive)
  t.is(exported.parts[0].bytes, (await stat(archive)).size, 'the reported size is the file size')
  t.deepEqual(exported.heads, [{ name: 'demo', version: '1.0', seq: 1, root: a.built.root }])
  t.is(exported.skipped, 0)
  t.deepEqual(exported.warnings, [])
  const contentBytes = FILES.reduce((sum, f) => sum + f.bytes.byteLength, 0)
  t.true(
    exported.bytes >= contentBytes && exported.bytes < contentBytes * 1.01 + 64 * 1024,
    `${exported.bytes} B of blocks for ${contentBytes} B of content`,
  )

  const [imported, ...more] = await ferryJson<ImportSummary[]>(['import', archive, '--store', b.store])
  t.is(more.length, 0)
  t.is(imported.file, archive)
  t.is(imported.envelope, exported.envelope)
  t.deepEqual(imported.part, { index: 1, parts: 1 })
  t.is(imported.blocks, exported.blocks)
  t.is(imported.newBlocks, exported.blocks, 'every data block was new to B')
  t.is(imported.newBytes, exported.bytes)
  t.deepEqual(imported.heads, [
    {
      name: 'demo',
      version: '1.0',
      seq: 1,
      root: a.built.root,
      status: 'published',
      missingBlocks: 0,
      missingBytes: 0,
    },
  ])

  const heads = await lsHeads(b.store)
  t.deepEqual(heads, [
    { name: 'demo', version: '1.0', seq: 1, root: a.built.root, publisher: key, complete: true },
  ])
  t.deepEqual(await lsEntries(b.store, 'demo'), await lsEntries(a.store, 'demo'), 'B lists what A lists')

  for (const f of FILES) {
    const cat = await ferry(['cat', `demo/app/${f.name}`, '--store', b.store])
    t.is(cat.code, 0, cat.stderr)
    t.is(cat.bytes.byteLength, f.bytes.byteLength, `${f.name}: length`)
    t.is(sha256Hex(cat.bytes), sha256Hex(f.bytes), `${f.name}: cat is byte-equal`)
  }
  const verify = await ferryJson<{ ok: boolean; blocks: number; bytes: number }>([
    'verify',
    '--store',
    b.store,
  ])
  t.true(verify.ok)
  t.true(verify.bytes >= contentBytes)

  // The same archive again: nothing new, nothing published, the head is current.
  const status = await ferryJson<{ store: { blocks: number; bytes: number } }>(['status', '--store', b.store])
  const [again] = await ferryJson<ImportSummary[]>(['import', archive, '--store', b.store])
  t.is(again.newBlocks, 0)
  t.is(again.newBytes, 0)
  t.is(again.blocks, exported.blocks)
  t.is(again.heads.length, 1)
  t.like(again.heads[0], { name: 'demo', seq: 1, status: 'current', missingBlocks: 0 })
  t.deepEqual(await lsHeads(b.store), heads)
  t.deepEqual(
    (await ferryJson<{ store: { blocks: number; bytes: number } }>(['status', '--store', b.store])).store,
    status.store,
    'no block was written twice',
  )

  // The human output says the same.
  const text = await ferry(['import', archive, '--store', b.store])
  t.is(text.code, 0, text.stderr)
  t.regex(text.stdout, /part 1\/1, \d+ blocks \(0 new/)
  t.regex(text.stdout, /demo 1\.0 \(seq 1\): current/)
})

test('one archive can carry several heads; the publisher can export again what it imported', async (t) => {
  const a = await publisherWithRelease(t)
  await writeFile(join(a.dir, 'tool.sh'), '#!/bin/sh\necho tool\n')
  const tool = await buildRelease(a.dir, a.store, {
    name: 'tools',
    version: '7',
    module: 'tools',
    files: [{ name: 'bin/tool.sh', path: 'tool.sh' }],
  })
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)

  const archive = join(a.dir, 'both.car')
  const exported = await ferryJson<ExportSummary>([
    'export',
    'demo',
    'tools',
    '--out',
    archive,
    '--store',
    a.store,
  ])
  t.deepEqual(
    exported.heads.map((h) => [h.name, h.root]),
    [
      ['demo', a.built.root],
      ['tools', tool.root],
    ],
  )
  const [imported] = await ferryJson<ImportSummary[]>(['import', archive, '--store', b.store])
  t.deepEqual(
    imported.heads.map((h) => [h.name, h.status]),
    [
      ['demo', 'published'],
      ['tools', 'published'],
    ],
  )
  t.deepEqual(
    (await lsHeads(b.store)).map((h) => [h.name, h.version, h.complete]),
    [
      ['demo', '1.0', true],
      ['tools', '7', true],
    ],
  )
  t.is((await ferry(['cat', 'tools/tools/bin/tool.sh', '--store', b.store])).stdout, '#!/bin/sh\necho tool\n')

  // B relays A's signed head on to C (A's signature travels; C trusts A, not B).
  const c = await initStore(t)
  await trustPublisher(c.store, a.store)
  const relay = join(b.dir, 'relay.car')
  t.is((await ferry(['export', 'tools', '--out', relay, '--store', b.store])).code, 0)
  const [relayed] = await ferryJson<ImportSummary[]>(['import', relay, '--store', c.store])
  t.like(relayed.heads[0], { name: 'tools', root: tool.root, status: 'published' })
  t.deepEqual(
    (await lsHeads(c.store)).map((h) => h.publisher),
    [await ferry(['key', 'show', '--store', a.store]).then((r) => r.stdout.trim())],
  )
  t.is((await ferry(['verify', '--store', c.store])).code, 0)
})
