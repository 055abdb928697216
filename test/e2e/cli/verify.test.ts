import { open, readdir, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { CID } from 'multiformats/cid'
import type { VerifyReport } from '../../../store/index.js'
import { ferry, ferryJson, initStore, pseudoRandom, writeRequirements } from '../../helpers/cli.js'

const PACK_MAGIC_BYTES = 8

interface PackRecord {
  cid: string
  dataOffset: number
  length: number
}

/** Reads a pack's records (DESIGN.md, Store: magic, then `u32 length | u8 CID length | CID | data`). */
async function packRecords(path: string): Promise<PackRecord[]> {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    const header = Buffer.alloc(5 + 255)
    const out: PackRecord[] = []
    let at = PACK_MAGIC_BYTES
    while (at + 5 <= size) {
      await handle.read(header, 0, 5, at)
      const length = header.readUInt32BE(0)
      const cidLength = header[4]
      await handle.read(header, 5, cidLength, at + 5)
      const dataOffset = at + 5 + cidLength
      if (cidLength === 0 || dataOffset + length > size) throw new Error(`bad record at ${at} in ${path}`)
      out.push({
        cid: CID.decode(new Uint8Array(header.subarray(5, 5 + cidLength))).toString(),
        dataOffset,
        length,
      })
      at = dataOffset + length
    }
    return out
  } finally {
    await handle.close()
  }
}

/**
 * Flips one byte in the middle of every stored copy of block `cid`. (Identical
 * content ingested concurrently may be appended twice; the index points at one copy.)
 */
async function corruptBlock(path: string, cid: string): Promise<number> {
  const copies = (await packRecords(path)).filter((r) => r.cid === cid)
  const handle = await open(path, 'r+')
  try {
    for (const record of copies) {
      const offset = record.dataOffset + Math.floor(record.length / 2)
      const byte = Buffer.alloc(1)
      await handle.read(byte, 0, 1, offset)
      byte[0] ^= 0xff
      await handle.write(byte, 0, 1, offset)
    }
  } finally {
    await handle.close()
  }
  return copies.length
}

/** A store with head `rel`: a 4 MiB file in module a, the same bytes again in module b, and a small file in c. */
async function corruptibleStore(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  const big = pseudoRandom(4 * 1024 * 1024, 'verify/big')
  const small = pseudoRandom(1000, 'verify/small')
  await writeFile(join(dir, 'big.bin'), big)
  await writeFile(join(dir, 'small.bin'), small)
  const reqs = [
    await writeRequirements(
      dir,
      'a.yaml',
      'module: a\nversion: "1"\nfiles:\n  - name: big.bin\n    path: big.bin\n',
    ),
    await writeRequirements(
      dir,
      'b.yaml',
      'module: b\nversion: "1"\nfiles:\n  - name: copy.bin\n    path: big.bin\n',
    ),
    await writeRequirements(
      dir,
      'c.yaml',
      'module: c\nversion: "1"\nfiles:\n  - name: small.bin\n    path: small.bin\n',
    ),
  ]
  const build = await ferry(['bom', 'build', ...reqs, '--name', 'rel', '--version', '1', '--store', store])
  if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`)
  const packs = (await readdir(join(store, 'packs'))).filter((name) => name.endsWith('.pack'))
  if (packs.length !== 1) throw new Error(`expected one pack, found ${packs.join(', ')}`)
  return { dir, store, big, small, pack: join(store, 'packs', packs[0]) }
}

test('a flipped byte in a pack: verify names the block and its entries; cat of that file fails', async (t) => {
  const { store, big, small, pack } = await corruptibleStore(t)
  const clean = await ferryJson<VerifyReport>(['verify', '--store', store])
  t.true(clean.ok)
  t.deepEqual(clean.problems, [])
  t.true(clean.blocks > (4 * 1024 * 1024) / (256 * 1024), 'the big file spans several chunks')

  // The block whose data holds the pack's middle byte: a raw chunk of the big file.
  const { size } = await stat(pack)
  const record = (await packRecords(pack)).find((r) => r.dataOffset + r.length > size / 2)!
  t.true(record.cid.startsWith('bafk'), 'the middle of the pack holds a raw data chunk')
  t.true((await corruptBlock(pack, record.cid)) >= 1)

  const human = await ferry(['verify', '--store', store])
  t.is(human.code, 1)
  t.true(human.stderr.includes(record.cid), `stderr names the bad block ${record.cid}:\n${human.stderr}`)
  t.regex(human.stderr, /ERR_VERIFY_FAILED/)
  t.regex(human.stderr, /a\/big\.bin/)
  t.regex(human.stdout, /FAILED: 1 bad block/)

  const json = await ferry(['verify', '--store', store, '--json'])
  t.is(json.code, 1)
  const report = JSON.parse(json.stdout) as VerifyReport
  t.false(report.ok)
  t.is(report.problems.length, 1, JSON.stringify(report.problems))
  const [problem] = report.problems
  t.is(problem.cid, record.cid)
  t.is(problem.problem, 'corrupt')
  t.deepEqual(
    [...problem.entries].sort(),
    ['a/big.bin', 'b/copy.bin'],
    'a shared block is named for every entry',
  )

  // verify of the head alone says the same.
  const one = await ferry(['verify', 'rel', '--store', store, '--json'])
  t.is(one.code, 1)
  t.deepEqual(
    (JSON.parse(one.stdout) as VerifyReport).problems.map((p) => p.cid),
    [record.cid],
  )

  for (const target of ['rel/a/big.bin', 'rel/b/copy.bin']) {
    const cat = await ferry(['cat', target, '--store', store])
    t.is(cat.code, 1, `cat ${target} must fail`)
    t.regex(cat.stderr, /ferry: ERR_CORRUPT_BLOCK: /)
    t.true(cat.stderr.includes(record.cid), cat.stderr)
    t.true(cat.bytes.byteLength < big.byteLength, 'never the whole (wrong) file')
    t.true(
      Buffer.from(big.subarray(0, cat.bytes.byteLength)).equals(cat.bytes),
      'what was written before the bad block is the true prefix',
    )
  }

  // Entries that do not share the bad block still read and verify.
  const other = await ferry(['cat', 'rel/c/small.bin', '--store', store])
  t.is(other.code, 0, other.stderr)
  t.true(other.bytes.equals(small))
  const status = await ferryJson<{ heads: unknown[] }>(['status', '--store', store])
  t.is(status.heads.length, 1, 'status still works')
})

test('a corrupt index node is reported too', async (t) => {
  const { store, pack } = await corruptibleStore(t)
  const entries = await ferryJson<Array<{ module: string; name: string; root: string }>>([
    'ls',
    'rel',
    '--store',
    store,
  ])
  const bigRoot = entries.find((e) => e.module === 'a')!.root
  t.true(bigRoot.startsWith('bafy'), 'the big file has a dag-cbor root node')

  t.true((await corruptBlock(pack, bigRoot)) >= 1, 'the file node is in the pack')

  const run = await ferry(['verify', '--store', store, '--json'])
  t.is(run.code, 1, run.stdout + run.stderr)
  const report = JSON.parse(run.stdout) as VerifyReport
  const problem = report.problems.find((p) => p.cid === bigRoot)
  t.truthy(problem, JSON.stringify(report.problems))
  t.is(problem?.problem, 'corrupt')
  t.true(problem?.entries.includes('a/big.bin'))

  const cat = await ferry(['cat', 'rel/a/big.bin', '--store', store])
  t.is(cat.code, 1)
  t.regex(cat.stderr, /ERR_CORRUPT_BLOCK/)
  t.is(cat.bytes.byteLength, 0, 'nothing is written from a file whose root is bad')
})

test('cat of a block whose pack bytes are gone fails with ERR_CORRUPT_BLOCK', async (t) => {
  const { store, pack } = await corruptibleStore(t)
  const { size } = await stat(pack)
  await truncate(pack, Math.floor(size / 2))
  const cat = await ferry(['cat', 'rel/a/big.bin', '--store', store])
  t.is(cat.code, 1)
  t.regex(cat.stderr, /^ferry: ERR_CORRUPT_BLOCK: /m)
})

test('verify reports the blocks of a truncated pack as missing, with their entries', async (t) => {
  const { store, pack } = await corruptibleStore(t)
  const { size } = await stat(pack)
  await truncate(pack, Math.floor(size / 2))
  const run = await ferry(['verify', '--store', store, '--json'])
  t.is(run.code, 1)
  const report = JSON.parse(run.stdout) as VerifyReport
  t.false(report.ok)
  t.true(report.problems.length > 0)
  t.true(report.problems.every((p) => p.problem === 'missing'))
  // The release's index sits at the end of the pack, so it is gone too: each problem still says what it belongs to.
  t.true(report.problems.every((p) => p.entries.length > 0))
  t.true(report.problems.some((p) => p.entries.includes('bom rel') || p.entries.includes('a/big.bin')))
})
