import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { StatusSummary as Status } from '../../../daemon/ops/types.js'
import { killWhenPacksReach, packBytes } from '../../helpers/archive.js'
import {
  ferry,
  ferryDigest,
  ferryJson,
  initStore,
  sha256File,
  writePseudoRandomFile,
  writeRequirements,
} from '../../helpers/cli.js'

const MiB = 1024 * 1024

test('a bom build killed mid-ingest leaves a sound store that keeps what it wrote; the same build then completes', async (t) => {
  const { dir, store } = await initStore(t)
  const size = 300 * MiB
  const data = join(dir, 'big.bin')
  await writePseudoRandomFile(data, size, 'crash/300m')
  const expected = await sha256File(data)
  const req = await writeRequirements(
    dir,
    'big.yaml',
    'module: big\nversion: "1"\nfiles:\n  - name: big.bin\n    path: big.bin\n',
  )

  // A head published before the crashes: it must survive them untouched.
  await writeFile(join(dir, 'base.txt'), 'base release\n')
  const baseReq = await writeRequirements(
    dir,
    'base.yaml',
    'module: base\nversion: "1"\nfiles:\n  - name: base.txt\n    path: base.txt\n',
  )
  t.is((await ferry(['bom', 'build', baseReq, '--name', 'base', '--version', '1', '--store', store])).code, 0)
  const baseHeads = await ferryJson<Status['heads']>(['ls', '--store', store])

  const buildArgs = ['bom', 'build', req, '--name', 'big', '--version', '1', '--store', store]
  // Kill points by bytes of pack on disk: at the start, before the first commit, after some commits, near the end.
  for (const killAt of [1 * MiB, 50 * MiB, 170 * MiB, 270 * MiB]) {
    const run = await killWhenPacksReach(store, buildArgs, killAt)
    t.true(
      run.reached,
      `the build should still run when the packs pass ${killAt / MiB} MiB (stderr: ${run.stderr})`,
    )
    t.is(run.signal, 'SIGKILL', `killed at ${killAt / MiB} MiB, not finished on its own`)

    const verify = await ferry(['verify', '--store', store, '--json'])
    t.is(verify.code, 0, `verify after a kill at ${killAt / MiB} MiB: ${verify.stdout}${verify.stderr}`)
    const status = await ferry(['status', '--store', store, '--json'])
    t.is(status.code, 0, status.stderr)
    const parsed = JSON.parse(status.stdout) as Status
    t.log(`killed at ${killAt / MiB} MiB: ${parsed.store.blocks} blocks, ${parsed.store.bytes} B survive`)
    t.deepEqual(parsed.heads, baseHeads, 'no head for the killed build; the old one is intact')
    // Nothing written before the kill is lost: opening the store takes back every whole record past
    // the last commit; only the one record being written (at most 4 MiB) can be torn.
    t.true(
      parsed.store.bytes >= killAt - 4 * MiB,
      `killed with ${killAt / MiB} MiB of packs: ${parsed.store.bytes} B of blocks kept`,
    )
    // Reopening cut every pack back to what the index references: no torn tail is kept.
    t.true(
      (await packBytes(store)) <= parsed.store.bytes * 1.01 + 64 * 1024,
      `packs ${await packBytes(store)} B on disk for ${parsed.store.bytes} B of blocks`,
    )
    const base = await ferry(['cat', 'base/base/base.txt', '--store', store])
    t.is(base.stdout, 'base release\n')
  }

  const done = await ferry(buildArgs, { timeoutMs: 240_000 })
  t.is(done.code, 0, done.stderr)
  const cat = await ferryDigest(['cat', 'big/big/big.bin', '--store', store])
  t.is(cat.code, 0, cat.stderr)
  t.is(cat.size, size)
  t.is(cat.sha256, expected)

  const verify = await ferryJson<{ ok: boolean; bytes: number }>(['verify', '--store', store])
  t.true(verify.ok)
  t.true(verify.bytes >= size)
  const status = await ferryJson<Status>(['status', '--store', store])
  t.deepEqual(
    status.heads.map((h) => [h.name, h.seq, h.complete]),
    [
      ['base', 1, true],
      ['big', 1, true],
    ],
  )
  // Every block is stored once: the interrupted runs left no duplicate or dead bytes behind.
  t.true(status.store.bytes < size * 1.01, `${status.store.bytes} B of blocks for a ${size} B file`)
  t.true((await packBytes(store)) < size * 1.01, `${await packBytes(store)} B of packs for a ${size} B file`)
})
