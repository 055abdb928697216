import { rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  killWhenPacksReach,
  lsHeads,
  MiB,
  packBytes,
  storeStatus,
  trustPublisher,
} from '../../helpers/archive.js'
import {
  ferry,
  ferryDigest,
  ferryJson,
  initStore,
  sha256File,
  writePseudoRandomFile,
} from '../../helpers/cli.js'

test('an import killed with SIGKILL mid-archive leaves a sound store that keeps what it wrote; the same import then completes', async (t) => {
  const a = await initStore(t)
  const size = 240 * MiB
  const data = join(a.dir, 'big.bin')
  await writePseudoRandomFile(data, size, 'archive-crash/240m')
  const expected = await sha256File(data)
  await writeFile(join(a.dir, 'small.txt'), 'small\n')
  await buildRelease(a.dir, a.store, {
    name: 'big',
    version: '1',
    files: [
      { name: 'big.bin', path: 'big.bin' },
      { name: 'small.txt', path: 'small.txt' },
    ],
  })
  await rm(data) // the store has it; keep the disk footprint down
  const archive = join(a.dir, 'big.car')
  const exported = await ferryJson<ExportSummary>(['export', 'big', '--out', archive, '--store', a.store])
  t.true((await stat(archive)).size > size)

  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  const args = ['import', archive, '--store', b.store]
  // Kill points by pack bytes on disk: early, and in the middle of the second run.
  let survived = 0
  for (const killAt of [40 * MiB, 150 * MiB]) {
    const run = await killWhenPacksReach(b.store, args, killAt)
    t.true(
      run.reached,
      `the import should still run when the packs pass ${killAt / MiB} MiB (stderr: ${run.stderr})`,
    )
    t.is(run.signal, 'SIGKILL', `killed at ${killAt / MiB} MiB, not finished on its own`)

    t.deepEqual(await lsHeads(b.store), [], `killed at ${killAt / MiB} MiB: no head`)
    const verify = await ferry(['verify', '--store', b.store])
    t.is(verify.code, 0, `verify after a kill at ${killAt / MiB} MiB: ${verify.stdout}${verify.stderr}`)
    const status = await storeStatus(b.store)
    t.log(`killed at ${killAt / MiB} MiB: ${status.store.blocks} blocks, ${status.store.bytes} B survive`)
    t.true(status.store.bytes >= survived, 'what earlier runs stored is still there')
    // Nothing written before the kill is lost: opening the store takes back every whole record past
    // the last commit; only the one record being written (at most 4 MiB) can be torn.
    t.true(
      status.store.bytes >= killAt - 4 * MiB,
      `killed with ${killAt / MiB} MiB of packs: ${status.store.bytes} B of blocks kept`,
    )
    survived = status.store.bytes
  }
  t.true(survived > 0, `${survived} B survived the kills`)

  // The same command again continues: only what did not survive is written.
  const started = Date.now()
  const [done] = await ferryJson<ImportSummary[]>(args, { timeoutMs: 240_000 })
  t.log(`the final import took ${Date.now() - started} ms`)
  t.like(done.heads[0], { name: 'big', status: 'published', missingBlocks: 0 })
  t.is(done.blocks, exported.blocks)
  t.true(
    done.newBytes <= exported.bytes - survived + MiB,
    `${done.newBytes} B new after ${survived} B survived`,
  )

  const cat = await ferryDigest(['cat', 'big/app/big.bin', '--store', b.store])
  t.is(cat.code, 0, cat.stderr)
  t.is(cat.size, size)
  t.is(cat.sha256, expected)
  t.is((await ferry(['cat', 'big/app/small.txt', '--store', b.store])).stdout, 'small\n')
  const verify = await ferryJson<{ ok: boolean; bytes: number }>(['verify', '--store', b.store])
  t.true(verify.ok)
  t.true(verify.bytes >= size)
  // No block was stored twice over the three runs, and no torn tail was kept.
  const status = await storeStatus(b.store)
  t.true(status.store.bytes < size * 1.01, `${status.store.bytes} B of blocks for ${size} B`)
  t.true((await packBytes(b.store)) < size * 1.01, `${await packBytes(b.store)} B of packs for ${size} B`)
})
