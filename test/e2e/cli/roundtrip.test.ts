import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { EntrySummary as LsEntry } from '../../../daemon/ops/types.js'
import type { BuildSummary } from '../../../store/index.js'
import {
  ferry,
  ferryDigest,
  ferryJson,
  initStore,
  pseudoRandom,
  sha256File,
  sha256Hex,
  writePseudoRandomFile,
  writeRequirements,
} from '../../helpers/cli.js'

const RAW = 0x55

/** The CID a single-chunk file must have: raw codec over sha2-256 of its bytes (DESIGN.md, Blocks and CIDs). */
async function rawCid(bytes: Uint8Array): Promise<string> {
  return CID.createV1(RAW, await sha256.digest(bytes)).toString()
}

test('bom build then cat gives back every file byte for byte (0 B, 1 B, 16 KiB, 256 KiB, nested names)', async (t) => {
  const { dir, store } = await initStore(t)
  // Requirements and data live below req/; the CLI runs from DIR, so paths must resolve from the file, not the cwd.
  const req = join(dir, 'req')
  await mkdir(join(req, 'data'), { recursive: true })
  const files: Array<{ name: string; bytes: Uint8Array }> = [
    { name: 'empty.bin', bytes: new Uint8Array(0) },
    { name: 'one.bin', bytes: new Uint8Array([0x2a]) },
    { name: 'sixteen-kib.bin', bytes: pseudoRandom(16 * 1024, 'roundtrip/16k') },
    { name: 'nested/dir/quarter-mib.bin', bytes: pseudoRandom(256 * 1024, 'roundtrip/256k') },
  ]
  let yaml = 'module: sizes\nversion: "1.0"\nfiles:\n'
  for (const [i, f] of files.entries()) {
    await writeFile(join(req, 'data', `f${i}`), f.bytes)
    yaml += `  - name: ${f.name}\n    path: data/f${i}\n`
  }
  const reqFile = await writeRequirements(req, 'sizes.yaml', yaml)

  const built = await ferryJson<BuildSummary>(
    ['bom', 'build', reqFile, '--name', 'rel', '--version', '1.0', '--store', store],
    { cwd: dir },
  )
  t.is(built.name, 'rel')
  t.is(built.version, '1.0')
  t.is(built.seq, 1)
  t.is(built.entries, files.length)
  t.is(
    built.bytes,
    files.reduce((sum, f) => sum + f.bytes.byteLength, 0),
  )

  const heads = await ferryJson<Array<{ name: string; root: string; complete: boolean }>>([
    'ls',
    '--store',
    store,
  ])
  t.is(heads.length, 1)
  t.is(heads[0].root, built.root)
  t.true(heads[0].complete)

  const entries = await ferryJson<LsEntry[]>(['ls', 'rel', '--store', store])
  t.deepEqual(
    entries.map((e) => e.name),
    files.map((f) => f.name).sort(),
    'ls lists every entry, sorted by name',
  )
  for (const f of files) {
    const entry = entries.find((e) => e.name === f.name)
    if (entry === undefined) {
      t.fail(`no entry ${f.name}`)
      continue
    }
    t.is(entry.kind, 'file')
    t.is(entry.module, 'sizes')
    t.is(entry.size, f.bytes.byteLength, `${f.name}: size`)
    t.is(entry.sha256, sha256Hex(f.bytes), `${f.name}: sha256`)

    const byName = await ferry(['cat', `rel/sizes/${f.name}`, '--store', store])
    t.is(byName.code, 0, byName.stderr)
    t.is(byName.bytes.byteLength, f.bytes.byteLength, `${f.name}: cat length`)
    t.true(byName.bytes.equals(f.bytes), `${f.name}: cat by name is byte-equal`)

    const byCid = await ferry(['cat', entry.root, '--store', store])
    t.is(byCid.code, 0, byCid.stderr)
    t.true(byCid.bytes.equals(f.bytes), `${f.name}: cat by root CID is byte-equal`)
  }

  // Files of at most the minimum chunk size are one raw block: the root is the raw CID of the content.
  for (const name of ['empty.bin', 'one.bin', 'sixteen-kib.bin']) {
    const f = files.find((x) => x.name === name)!
    t.is(entries.find((e) => e.name === name)?.root, await rawCid(f.bytes), `${name}: root is its raw CID`)
  }
  t.is(
    entries.find((e) => e.name === 'empty.bin')?.root,
    'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    'the empty file is the empty raw block',
  )
})

test('a 100 MiB file round-trips; ls reports its size and sha256; cat by CID works', async (t) => {
  const { dir, store } = await initStore(t)
  const size = 100 * 1024 * 1024
  const data = join(dir, 'big.bin')
  await writePseudoRandomFile(data, size, 'roundtrip/100m')
  const expected = await sha256File(data)
  const reqFile = await writeRequirements(
    dir,
    'big.yaml',
    'module: big\nversion: "2"\nfiles:\n  - name: images/big.bin\n    path: big.bin\n    mode: "0644"\n',
  )

  const built = await ferryJson<BuildSummary>([
    'bom',
    'build',
    reqFile,
    '--name',
    'bigrel',
    '--version',
    '2',
    '--store',
    store,
  ])
  t.is(built.entries, 1)
  t.is(built.bytes, size)
  t.true(built.newBytes >= size, 'every chunk was new to this store')

  const [entry, ...rest] = await ferryJson<LsEntry[]>(['ls', 'bigrel', '--store', store])
  t.is(rest.length, 0)
  t.is(entry.name, 'images/big.bin')
  t.is(entry.size, size)
  t.is(entry.sha256, expected)
  t.true(entry.root.startsWith('bafy'), 'a multi-chunk file has a dag-cbor root')

  const byName = await ferryDigest(['cat', 'bigrel/big/images/big.bin', '--store', store])
  t.is(byName.code, 0, byName.stderr)
  t.is(byName.size, size)
  t.is(byName.sha256, expected)

  const byCid = await ferryDigest(['cat', entry.root, '--store', store])
  t.is(byCid.code, 0, byCid.stderr)
  t.is(byCid.size, size)
  t.is(byCid.sha256, expected)

  const status = await ferryJson<{ store: { blocks: number; bytes: number } }>(['status', '--store', store])
  // ~1600 chunks of 16–256 KiB plus a handful of index nodes.
  t.true(status.store.blocks >= size / (256 * 1024), `${status.store.blocks} blocks`)
  t.true(status.store.bytes >= size && status.store.bytes < size * 1.01, `${status.store.bytes} bytes`)
})

test('two modules in one build; cat of a missing entry or head says what is missing', async (t) => {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'alpha\n')
  await writeFile(join(dir, 'b.txt'), 'beta\n')
  const alpha = await writeRequirements(
    dir,
    'alpha.yaml',
    'module: alpha\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  const beta = await writeRequirements(
    dir,
    'beta.yaml',
    'module: beta\nversion: "7"\nfiles:\n  - name: b.txt\n    path: b.txt\n',
  )
  const build = await ferry([
    'bom',
    'build',
    alpha,
    beta,
    '--name',
    'two',
    '--version',
    '1',
    '--store',
    store,
  ])
  t.is(build.code, 0, build.stderr)
  t.regex(build.stdout, /published two 1 seq 1/)

  t.is((await ferry(['cat', 'two/alpha/a.txt', '--store', store])).stdout, 'alpha\n')
  t.is((await ferry(['cat', 'two/beta/b.txt', '--store', store])).stdout, 'beta\n')

  const wrongModule = await ferry(['cat', 'two/alpha/b.txt', '--store', store])
  t.is(wrongModule.code, 1)
  t.regex(wrongModule.stderr, /ERR_NOT_FOUND/)
  t.regex(wrongModule.stderr, /alpha\/b\.txt/)

  const noHead = await ferry(['cat', 'nothere/alpha/a.txt', '--store', store])
  t.is(noHead.code, 1)
  t.regex(noHead.stderr, /ERR_NOT_FOUND/)
  t.regex(noHead.stderr, /nothere/)

  const short = await ferry(['cat', 'two/alpha', '--store', store])
  t.is(short.code, 1)
  t.regex(short.stderr, /ERR_INVALID_ARGUMENT/)
})
