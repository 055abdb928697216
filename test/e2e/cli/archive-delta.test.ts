import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  lsHeads,
  MiB,
  refusal,
  trustPublisher,
} from '../../helpers/archive.js'
import { ferry, ferryDigest, ferryJson, initStore, pseudoRandom, sha256Hex } from '../../helpers/cli.js'

const FILE_SIZE = 8 * MiB

/**
 * v2 of the 8 MiB application binary: a patched region (a rebuilt section,
 * 192 KiB overwritten) and four small insertions scattered through the file,
 * the way a point release changes a binary; about 1% of the release's bytes.
 */
function editBinary(v1: Uint8Array): { bytes: Uint8Array; changed: number } {
  const pieces: Uint8Array[] = []
  let changed = 0
  const region = { at: 3 * MiB + 4321, length: 192 * 1024 }
  const insertions = [
    { at: 700 * 1024 + 17, length: 4096 },
    { at: 2 * MiB + 999, length: 1500 },
    { at: 5 * MiB + 123_456, length: 4096 },
    { at: 7 * MiB + 55, length: 2500 },
  ]
  const cuts = [...insertions.map((i) => i.at), region.at].sort((x, y) => x - y)
  let from = 0
  for (const cut of cuts) {
    pieces.push(v1.subarray(from, cut))
    from = cut
    const insertion = insertions.find((i) => i.at === cut)
    if (insertion) {
      pieces.push(pseudoRandom(insertion.length, `archive-delta/insert/${cut}`))
      changed += insertion.length
    } else {
      pieces.push(pseudoRandom(region.length, 'archive-delta/region'))
      changed += region.length
      from = cut + region.length
    }
  }
  pieces.push(v1.subarray(from))
  return { bytes: new Uint8Array(Buffer.concat(pieces)), changed }
}

test('a delta against the site inventory is under 5% of a full archive, imports to v2, and fails cleanly without its base', async (t) => {
  const a = await initStore(t)
  await mkdir(join(a.dir, 'v1'))
  await mkdir(join(a.dir, 'v2'))
  const app1 = pseudoRandom(FILE_SIZE, 'archive-delta/app')
  const data = pseudoRandom(FILE_SIZE, 'archive-delta/data')
  const tools = pseudoRandom(FILE_SIZE, 'archive-delta/tools')
  const config1 = new TextEncoder().encode('replicas: 3\nimage: registry.local/app:1.0\nlogLevel: info\n')
  const { bytes: app2, changed } = editBinary(app1)
  const config2 = new TextEncoder().encode('replicas: 5\nimage: registry.local/app:1.1\nlogLevel: info\n')
  await writeFile(join(a.dir, 'v1/app.bin'), app1)
  await writeFile(join(a.dir, 'v2/app.bin'), app2)
  await writeFile(join(a.dir, 'data.bin'), data)
  await writeFile(join(a.dir, 'tools.bin'), tools)
  await writeFile(join(a.dir, 'v1/config.yaml'), config1)
  await writeFile(join(a.dir, 'v2/config.yaml'), config2)
  const total2 = app2.byteLength + data.byteLength + tools.byteLength + config2.byteLength
  t.log(`v2 changes ${changed} B of ${total2} B (${((100 * changed) / total2).toFixed(2)}%)`)
  t.true(changed / total2 > 0.005 && changed / total2 <= 0.012, 'about 1% of the bytes changed')

  const filesOf = (v: 'v1' | 'v2') => [
    { name: 'bin/app.bin', path: `${v}/app.bin` },
    { name: 'share/data.bin', path: 'data.bin' },
    { name: 'bin/tools.bin', path: 'tools.bin' },
    { name: 'etc/config.yaml', path: `${v}/config.yaml` },
  ]
  const expected2 = new Map([
    ['bin/app.bin', app2],
    ['share/data.bin', data],
    ['bin/tools.bin', tools],
    ['etc/config.yaml', config2],
  ])

  // v1 ships in full to site B.
  const v1 = await buildRelease(a.dir, a.store, { name: 'demo', version: '1', files: filesOf('v1') })
  const full1 = join(a.dir, 'demo-1.car')
  t.is((await ferry(['export', 'demo', '--out', full1, '--store', a.store])).code, 0)
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  const [in1] = await ferryJson<ImportSummary[]>(['import', full1, '--store', b.store])
  t.like(in1.heads[0], { name: 'demo', version: '1', status: 'published' })

  // v2 of the same head at A.
  const v2 = await buildRelease(a.dir, a.store, { name: 'demo', version: '2', files: filesOf('v2') })
  t.is(v2.seq, 2)
  const full2 = join(a.dir, 'demo-2-full.car')
  const fullExport = await ferryJson<ExportSummary>(['export', 'demo', '--out', full2, '--store', a.store])
  const fullSize = (await stat(full2)).size
  t.true(fullSize > total2, `the full v2 archive holds all ${total2} B`)

  // B's inventory travels back; A exports only what B lacks.
  const inventory = join(b.dir, 'inv.json')
  const inv = await ferry(['inventory', '--out', inventory, '--store', b.store])
  t.is(inv.code, 0, inv.stderr)
  const delta = join(a.dir, 'demo-2-delta.car')
  const deltaExport = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--base',
    inventory,
    '--out',
    delta,
    '--store',
    a.store,
  ])
  const deltaSize = (await stat(delta)).size
  t.log(
    `full v2: ${fullSize} B, ${fullExport.blocks} blocks; delta: ${deltaSize} B (${((100 * deltaSize) / fullSize).toFixed(2)}%), ${deltaExport.blocks} blocks, ${deltaExport.skipped} skipped`,
  )
  t.deepEqual(deltaExport.warnings, [])
  t.true(deltaExport.skipped > 0)
  t.true(deltaSize <= 0.05 * fullSize, `delta ${deltaSize} B must be at most 5% of the full ${fullSize} B`)
  t.true(deltaSize >= changed, 'the delta carries at least the changed bytes')

  // The other --base forms: a head name (v1 also published as demo-lts) and v1's root CID.
  const lts = await buildRelease(a.dir, a.store, { name: 'demo-lts', version: '1', files: filesOf('v1') })
  const byName = join(a.dir, 'demo-2-by-name.car')
  const byCid = join(a.dir, 'demo-2-by-cid.car')
  const nameExport = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--base',
    'demo-lts',
    '--out',
    byName,
    '--store',
    a.store,
  ])
  const cidExport = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--base',
    v1.root,
    '--out',
    byCid,
    '--store',
    a.store,
  ])
  t.not(lts.root, v1.root, 'the BOM names its head, so demo-lts has its own root over the same files')
  for (const [label, summary, path] of [
    ['--base demo-lts', nameExport, byName],
    ['--base CID', cidExport, byCid],
  ] as const) {
    const size = (await stat(path)).size
    t.deepEqual(summary.warnings, [], label)
    t.true(size <= 0.05 * fullSize, `${label}: ${size} B must be at most 5% of ${fullSize} B`)
    t.true(
      Math.abs(size - deltaSize) <= 0.1 * deltaSize,
      `${label}: ${size} B is comparable to the inventory delta's ${deltaSize} B`,
    )
    t.true(Math.abs(summary.blocks - deltaExport.blocks) <= 2, `${label}: ${summary.blocks} blocks`)
  }

  // B: the delta gives v2.
  const [in2] = await ferryJson<ImportSummary[]>(['import', delta, '--store', b.store])
  t.is(in2.newBlocks, deltaExport.blocks)
  t.like(in2.heads[0], { name: 'demo', version: '2', seq: 2, root: v2.root, status: 'published' })
  t.deepEqual(
    (await lsHeads(b.store)).map((h) => [h.name, h.version, h.seq, h.root, h.complete]),
    [['demo', '2', 2, v2.root, true]],
  )
  for (const [name, bytes] of expected2) {
    const cat = await ferryDigest(['cat', `demo/app/${name}`, '--store', b.store])
    t.is(cat.code, 0, cat.stderr)
    t.is(cat.size, bytes.byteLength, `${name}: size`)
    t.is(cat.sha256, sha256Hex(bytes), `${name}: cat is byte-equal to v2`)
  }
  t.is((await ferry(['verify', '--store', b.store])).code, 0)

  // C never had v1: the delta is refused, naming the release it needs, and publishes nothing.
  const c = await initStore(t)
  await trustPublisher(c.store, a.store)
  const noBase = await ferry(['import', delta, '--store', c.store])
  const refused = refusal(noBase)
  t.is(noBase.code, 1)
  t.is(refused.code, 'ERR_INCOMPLETE', noBase.stderr)
  t.true(refused.message.includes(`demo 1 (${v1.root})`), `names the base head and root: ${refused.message}`)
  t.deepEqual(await ferryJson(['ls', '--store', c.store]), [])
  t.is((await ferry(['verify', '--store', c.store])).code, 0)

  // A delta against a bare CID names that CID.
  const noCid = await ferry(['import', byCid, '--store', c.store])
  t.is(noCid.code, 1)
  t.is(refusal(noCid).code, 'ERR_INCOMPLETE', noCid.stderr)
  t.true(refusal(noCid).message.includes(v1.root), noCid.stderr)
  t.deepEqual(await ferryJson(['ls', '--store', c.store]), [])
  t.is((await ferry(['verify', '--store', c.store])).code, 0)

  // Doing what the message says works: v1 first, then the same delta.
  t.is((await ferry(['import', full1, '--store', c.store])).code, 0)
  const [late] = await ferryJson<ImportSummary[]>(['import', delta, '--store', c.store])
  t.like(late.heads[0], { name: 'demo', version: '2', status: 'published' })
  const app = await ferryDigest(['cat', 'demo/app/bin/app.bin', '--store', c.store])
  t.is(app.sha256, sha256Hex(app2))
  t.is((await ferry(['verify', '--store', c.store])).code, 0)
})
