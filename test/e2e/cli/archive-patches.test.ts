/*
 * Patches in archives (issue 16): `ferry export --base` carries the changed chunks of an entry the base
 * release also has as patches against it; `ferry import` expands and verifies them.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  MiB,
  trustPublisher,
} from '../../helpers/archive.js'
import { ferry, ferryDigest, ferryJson, initStore, pseudoRandom, sha256Hex } from '../../helpers/cli.js'

/** v1 with `count` small overwrites spread through it, each 20 bytes. */
function scatteredEdits(v1: Uint8Array, count: number): Uint8Array {
  const out = Uint8Array.from(v1)
  for (let i = 0; i < count; i++)
    out.set(pseudoRandom(20, `patches/edit/${i}`), Math.floor(((i + 0.5) * v1.byteLength) / count))
  return out
}

test('an upgrade with scattered small edits: patches make the delta a fraction of the chunks, and it imports to v2', async (t) => {
  const a = await initStore(t)
  await mkdir(join(a.dir, 'v1'))
  await mkdir(join(a.dir, 'v2'))
  const app1 = pseudoRandom(3 * MiB, 'patches/app')
  const app2 = scatteredEdits(app1, 30)
  await writeFile(join(a.dir, 'v1/app.bin'), app1)
  await writeFile(join(a.dir, 'v2/app.bin'), app2)
  const files = (v: string) => [{ name: 'bin/app.bin', path: `${v}/app.bin` }]
  await buildRelease(a.dir, a.store, { name: 'demo', version: '1', files: files('v1') })
  const full1 = join(a.dir, 'demo-1.car')
  t.is((await ferry(['export', 'demo', '--out', full1, '--store', a.store])).code, 0)
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  t.is((await ferry(['import', full1, '--store', b.store])).code, 0)
  const inventory = join(b.dir, 'inv.json')
  t.is((await ferry(['inventory', '--out', inventory, '--store', b.store])).code, 0)

  await buildRelease(a.dir, a.store, { name: 'demo', version: '2', files: files('v2') })
  const chunksOnly = join(a.dir, 'chunks.car')
  const withoutPatches = await ferryJson<ExportSummary & { patched: number }>([
    'export',
    'demo',
    '--base',
    inventory,
    '--no-patches',
    '--out',
    chunksOnly,
    '--store',
    a.store,
  ])
  t.is(withoutPatches.patched, 0)
  const delta = join(a.dir, 'delta.car')
  const patched = await ferryJson<ExportSummary & { patched: number; patchBytes: number }>([
    'export',
    'demo',
    '--base',
    inventory,
    '--out',
    delta,
    '--store',
    a.store,
  ])
  const [chunkSize, deltaSize] = [(await stat(chunksOnly)).size, (await stat(delta)).size]
  t.log(
    `chunks only: ${chunkSize} B; with ${patched.patched} patches (${patched.patchBytes} B): ${deltaSize} B`,
  )
  t.true(patched.patched > 0)
  t.is(patched.blocks, withoutPatches.blocks, 'the same blocks, some of them as patches')
  t.true(deltaSize < chunkSize / 10, `${deltaSize} B with patches against ${chunkSize} B without`)

  const [imported] = await ferryJson<ImportSummary[]>(['import', delta, '--store', b.store])
  t.like(imported.heads[0], { name: 'demo', version: '2', status: 'published' })
  t.is((await ferry(['verify', '--store', b.store])).code, 0)
  const cat = await ferryDigest(['cat', 'demo/app/bin/app.bin', '--store', b.store])
  t.is(cat.sha256, sha256Hex(app2))
})

test('--delta-level outside 1–19 is refused, naming the flag', async (t) => {
  const a = await initStore(t)
  const run = await ferry([
    'export',
    'x',
    '--out',
    join(a.dir, 'x.car'),
    '--delta-level',
    '0',
    '--store',
    a.store,
  ])
  t.not(run.code, 0)
  t.regex(run.stderr, /--delta-level 0: must be a whole number from 1 to 19/)
})
