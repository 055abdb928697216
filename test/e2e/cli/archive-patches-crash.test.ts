/*
 * Kill -9 during a patched import (issue 16): a delta whose changed chunks travel as patches is
 * imported, the import is SIGKILLed part-way through expanding them, and the same import run again
 * completes from what survived.
 */
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  killWhenPacksReach,
  lsEntries,
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
  pseudoRandom,
  sha256File,
  writePseudoRandomFile,
} from '../../helpers/cli.js'

/** Overwrites 20 bytes every `every` bytes of the file at `path`, in place; returns how many edits. */
async function scatterEdits(path: string, size: number, every: number): Promise<number> {
  const count = Math.floor(size / every)
  const edits = pseudoRandom(count * 20, 'patches-crash/edits')
  const handle = await open(path, 'r+')
  try {
    for (let i = 0; i < count; i++) {
      await handle.write(edits, i * 20, 20, Math.floor((i + 0.5) * every))
    }
  } finally {
    await handle.close()
  }
  return count
}

test('a patched import killed with SIGKILL part-way leaves v1 published and the store sound; the same import then completes v2', async (t) => {
  const size = 128 * MiB
  const files = [{ name: 'bin/app.bin', path: 'app.bin' }]
  const a = await initStore(t)
  const data = join(a.dir, 'app.bin')
  await writePseudoRandomFile(data, size, 'patches-crash/v1')
  const sha1 = await sha256File(data)
  await buildRelease(a.dir, a.store, { name: 'demo', version: '1', files })
  const full = join(a.dir, 'demo-1.car')
  t.is((await ferry(['export', 'demo', '--out', full, '--store', a.store])).code, 0)
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  t.is((await ferry(['import', full, '--store', b.store], { timeoutMs: 120_000 })).code, 0)
  await rm(full) // B has it; keep the disk footprint down
  const inventory = join(b.dir, 'inv.json')
  t.is((await ferry(['inventory', '--out', inventory, '--store', b.store])).code, 0)

  // v2: a small edit every 24 KiB, so nearly every chunk changes and travels as a patch.
  const edits = await scatterEdits(data, size, 24 * 1024)
  const sha2 = await sha256File(data)
  t.not(sha2, sha1)
  await buildRelease(a.dir, a.store, { name: 'demo', version: '2', files })
  await rm(data)
  const delta = join(a.dir, 'delta.car')
  const exportStarted = Date.now()
  const exported = await ferryJson<ExportSummary>(
    ['export', 'demo', '--base', inventory, '--out', delta, '--store', a.store],
    { timeoutMs: 120_000 },
  )
  t.log(
    `${edits} edits, exported in ${Date.now() - exportStarted} ms: ${exported.blocks} blocks, ${exported.patched} as patches (${exported.patchBytes} B), archive ${exported.parts[0].bytes} B`,
  )
  // About one chunk per 64 KiB; all but a few changed chunks (and the file's own nodes) go as patches.
  t.true(exported.patched >= (size / (64 * 1024)) * 0.8, `${exported.patched} patches`)
  t.true(exported.patched >= exported.blocks * 0.95, `${exported.patched} of ${exported.blocks} blocks`)
  t.true(exported.parts[0].bytes < size / 20, `the delta is ${exported.parts[0].bytes} B`)

  const v1Entry = (await lsEntries(b.store, 'demo'))[0]
  t.like(v1Entry, { name: 'bin/app.bin', size, sha256: sha1 })
  const before = await storeStatus(b.store)
  const packsBefore = await packBytes(b.store)

  // Killed once the expanded blocks it writes (about `size` in all) pass `killAfter` in the packs.
  const killAfter = 48 * MiB
  const args = ['import', delta, '--store', b.store]
  const killAt = packsBefore + killAfter
  const killStarted = Date.now()
  const run = await killWhenPacksReach(b.store, args, killAt)
  t.log(`killed after ${Date.now() - killStarted} ms`)
  t.true(
    run.reached,
    `the import should still run when its packs pass ${killAfter / MiB} MiB (stderr: ${run.stderr})`,
  )
  t.is(run.signal, 'SIGKILL', 'killed, not finished on its own')

  const heads = await lsHeads(b.store)
  t.is(heads.length, 1)
  t.like(heads[0], { name: 'demo', version: '1', complete: true })
  const verify = await ferry(['verify', '--store', b.store])
  t.is(verify.code, 0, `verify after the kill: ${verify.stdout}${verify.stderr}`)
  const v1Cat = await ferryDigest(['cat', 'demo/app/bin/app.bin', '--store', b.store])
  t.is(v1Cat.code, 0, v1Cat.stderr)
  t.is(v1Cat.sha256, sha1, 'v1 reads back intact')
  const killed = await storeStatus(b.store)
  const kept = {
    blocks: killed.store.blocks - before.store.blocks,
    bytes: killed.store.bytes - before.store.bytes,
  }
  t.log(
    `killed with ${(await packBytes(b.store)) - packsBefore} B of new packs: ${kept.blocks} blocks, ${kept.bytes} B kept`,
  )
  // Whole records past the last commit are taken back on open; only the one being written can be torn.
  t.true(kept.bytes >= killAfter - 4 * MiB, `${kept.bytes} B of expanded blocks kept`)

  // The same command again: it completes, writing only what did not survive.
  const started = Date.now()
  const [done] = await ferryJson<ImportSummary[]>(args, { timeoutMs: 240_000 })
  t.log(`the resumed import took ${Date.now() - started} ms`)
  t.like(done.heads[0], { name: 'demo', version: '2', status: 'published', missingBlocks: 0 })
  t.is(done.blocks, exported.blocks)
  const after = await storeStatus(b.store)
  const grown = {
    blocks: after.store.blocks - before.store.blocks,
    bytes: after.store.bytes - before.store.bytes,
  }
  t.log(
    `v2 added ${grown.blocks} blocks, ${grown.bytes} B; the resumed import wrote ${done.newBlocks}, ${done.newBytes} B`,
  )
  // Every data block of the delta was stored exactly once: by the killed run or by this one.
  t.is(kept.blocks + done.newBlocks, exported.blocks, 'the blocks kept at the kill are not written again')
  // The store also gained v2's signed head (a few hundred bytes).
  const headBytes = grown.bytes - kept.bytes - done.newBytes
  t.true(
    headBytes >= 0 && headBytes < 4096,
    `${done.newBytes} B new after ${kept.bytes} B kept, of ${grown.bytes} B`,
  )
  t.true(grown.bytes > size * 0.95, `v2's new blocks hold ${grown.bytes} B`)
  // No block stored twice over both runs, and no torn tail kept.
  const packsGrown = (await packBytes(b.store)) - packsBefore
  t.true(packsGrown < grown.bytes * 1.01, `${packsGrown} B of new packs for ${grown.bytes} B of blocks`)

  t.deepEqual(
    (await lsHeads(b.store)).map((h) => [h.name, h.version, h.complete]),
    [['demo', '2', true]],
  )
  const v2Cat = await ferryDigest(['cat', 'demo/app/bin/app.bin', '--store', b.store])
  t.is(v2Cat.code, 0, v2Cat.stderr)
  t.is(v2Cat.size, size)
  t.is(v2Cat.sha256, sha2)
  const v1Again = await ferryDigest(['cat', v1Entry.root, '--store', b.store])
  t.is(v1Again.sha256, sha1, "v1's file is still whole")
  const final = await ferryJson<{ ok: boolean }>(['verify', '--store', b.store])
  t.true(final.ok)
})
