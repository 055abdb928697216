import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { HeadSummary, StatusSummary as Status } from '../../../daemon/ops/types.js'
import type { GcResult } from '../../../store/index.js'
import {
  ferry,
  ferryJson,
  initStore,
  pseudoRandom,
  sha256Hex,
  tempDir,
  writeRequirements,
} from '../../helpers/cli.js'

const KEY = /^ed25519:[A-Za-z0-9_-]{43}$/

test('--help of the program and of each command exits 0 and mentions --store', async (t) => {
  const main = await ferry(['--help'])
  t.is(main.code, 0, main.stderr)
  t.regex(main.stdout, /--store/)
  for (const command of [
    'init',
    'bom',
    'ls',
    'cat',
    'load',
    'verify',
    'gc',
    'status',
    'key',
    'apt-key',
    'trust',
  ]) {
    t.regex(main.stdout, new RegExp(`^ {2}${command}\\b`, 'm'), `the program help lists ${command}`)
  }

  const build = await ferry(['bom', 'build', '--help'])
  t.is(build.code, 0, build.stderr)
  for (const option of ['--store', '--json', '--name', '--version', '--seq', '--allow-downgrade']) {
    t.true(build.stdout.includes(option), `bom build --help mentions ${option}`)
  }
  t.regex(build.stdout, /ferry download/)

  for (const command of [
    ['init'],
    ['ls'],
    ['cat'],
    ['load'],
    ['verify'],
    ['gc'],
    ['status'],
    ['key', 'show'],
    ['apt-key'],
    ['trust', 'add'],
    ['trust', 'ls'],
    ['trust', 'rm'],
  ]) {
    const run = await ferry([...command, '--help'])
    t.is(run.code, 0, command.join(' '))
    t.regex(run.stdout, /--store <dir>/, `${command.join(' ')} --help`)
    t.regex(run.stdout, /--json/, `${command.join(' ')} --help`)
  }
})

test('--version and -V print the version of package.json; bom build --version stays the release', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../../../../package.json', import.meta.url), 'utf8'))
  for (const flag of ['--version', '-V']) {
    const run = await ferry([flag])
    t.is(run.code, 0, run.stderr)
    t.is(run.stdout, `${pkg.version}\n`, flag)
  }
  t.regex((await ferry(['--help'])).stdout, /-V, --version/)
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'a')
  const req = await writeRequirements(
    dir,
    'r.yaml',
    'module: m\nversion: "1"\nfiles:\n  - {name: a, path: ./a.txt}\n',
  )
  const built = await ferryJson<{ version: string }>([
    'bom',
    'build',
    req,
    '--version',
    '2026.11',
    '--name',
    'rel',
    '--store',
    store,
  ])
  t.is(built.version, '2026.11')
})

test('unknown commands and options exit non-zero', async (t) => {
  const { store } = await initStore(t)
  const unknown = await ferry(['frobnicate', '--store', store])
  t.not(unknown.code, 0)
  t.regex(unknown.stderr, /unknown command 'frobnicate'/)
  const option = await ferry(['ls', '--frobnicate', '--store', store])
  t.not(option.code, 0)
  t.regex(option.stderr, /unknown option '--frobnicate'/)
  const missing = await ferry(['bom', 'build', '--store', store])
  t.not(missing.code, 0)
})

test('init creates a store and key once; key show prints that one token', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = join(dir, 'nested', 'store')
  const init = await ferryJson<{ store: string; publisher: string }>(['init', '--store', store])
  t.is(init.store, store)
  t.regex(init.publisher, KEY)
  t.true(existsSync(join(store, 'publisher.key')))

  const show = await ferry(['key', 'show', '--store', store])
  t.is(show.code, 0, show.stderr)
  t.is(show.stdout, `${init.publisher}\n`, 'exactly one token on one line')
  t.deepEqual(await ferryJson(['key', 'show', '--store', store]), { key: init.publisher })

  const again = await ferry(['init', '--store', store])
  t.is(again.code, 1)
  t.regex(again.stderr, /^ferry: ERR_ALREADY_INITIALIZED: /)
  t.is(
    (await ferry(['key', 'show', '--store', store])).stdout.trim(),
    init.publisher,
    'the key was not replaced',
  )

  const other = await initStore(t)
  t.not(
    (await ferry(['key', 'show', '--store', other.store])).stdout.trim(),
    init.publisher,
    'one key per store',
  )
})

test('$FERRY_STORE picks the store when --store is not given; --store wins over it', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const fromEnv = join(dir, 'env-store')
  const env = { FERRY_STORE: fromEnv }
  t.is((await ferry(['init'], { env })).code, 0)
  t.true(existsSync(join(fromEnv, 'db')))
  const status = await ferryJson<Status>(['status'], { env })
  t.is(status.store.dir, fromEnv)

  const explicit = await initStore(t)
  const over = await ferryJson<Status>(['status', '--store', explicit.store], { env })
  t.is(over.store.dir, explicit.store)
})

test('ls and status: JSON shapes, human tables, empty store', async (t) => {
  const { dir, store } = await initStore(t)
  const empty = await ferry(['ls', '--store', store])
  t.is(empty.code, 0)
  t.regex(empty.stdout, /no heads.*ferry bom build/)
  t.deepEqual(await ferryJson(['ls', '--store', store]), [])
  const emptyStatus = await ferryJson<Status>(['status', '--store', store])
  t.like(emptyStatus, { store: { dir: store, blocks: 0, bytes: 0 }, heads: [] })

  await writeFile(join(dir, 'x.bin'), pseudoRandom(300_000, 'commands/ls'))
  const req = await writeRequirements(
    dir,
    'x.yaml',
    'module: mod\nversion: "1"\nfiles:\n  - name: x.bin\n    path: x.bin\n',
  )
  for (const name of ['zeta', 'alpha']) {
    const run = await ferry(['bom', 'build', req, '--name', name, '--version', `${name}-1`, '--store', store])
    t.is(run.code, 0, run.stderr)
  }
  const key = (await ferry(['key', 'show', '--store', store])).stdout.trim()

  const heads = await ferryJson<HeadSummary[]>(['ls', '--store', store])
  t.deepEqual(
    heads.map((h) => h.name),
    ['alpha', 'zeta'],
    'sorted by name',
  )
  for (const head of heads) {
    t.deepEqual(Object.keys(head).sort(), ['complete', 'name', 'publisher', 'root', 'seq', 'version'])
    t.like(head, { version: `${head.name}-1`, seq: 1, publisher: key, complete: true })
    t.regex(head.root, /^bafy/)
  }
  t.not(heads[0].root, heads[1].root, 'the name is part of the BOM')

  const status = await ferryJson<Status>(['status', '--store', store])
  t.deepEqual(Object.keys(status).sort(), ['heads', 'store'])
  t.deepEqual(status.heads, heads, 'status lists the same heads as ls')
  t.is(typeof status.store.blocks, 'number')
  t.true(status.store.blocks > 2, `${status.store.blocks} blocks`)
  t.true(status.store.bytes >= 300_000 && status.store.bytes < 310_000, `${status.store.bytes} bytes`)
  t.true(status.store.packs >= 1)

  const table = await ferry(['ls', '--store', store])
  t.regex(table.stdout, /^NAME\s+VERSION\s+SEQ\s+COMPLETE\s+ROOT$/m)
  t.regex(table.stdout, new RegExp(`^alpha\\s+alpha-1\\s+1\\s+yes\\s+${heads[0].root}$`, 'm'))

  const entries = await ferry(['ls', 'alpha', '--store', store])
  t.is(entries.code, 0)
  t.regex(entries.stdout, /^file\s+mod\s+x\.bin\s+293\.0 KiB\s+[0-9a-f]{16}$/m)

  // A BOM root CID works where a head name does.
  t.deepEqual(
    await ferryJson(['ls', heads[0].root, '--store', store]),
    await ferryJson(['ls', 'alpha', '--store', store]),
  )
  const none = await ferry(['ls', 'nothing', '--store', store])
  t.is(none.code, 1)
  t.regex(none.stderr, /^ferry: ERR_NOT_FOUND: no head named 'nothing'/)

  const human = await ferry(['status', '--store', store])
  t.regex(human.stdout, /blocks, .* in 1 pack/)
  t.regex(human.stdout, /alpha alpha-1 \(seq 1\)/)
})

test('verify of the whole store, one head, and one entry CID', async (t) => {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'x.bin'), pseudoRandom(500_000, 'commands/verify'))
  const req = await writeRequirements(
    dir,
    'x.yaml',
    'module: mod\nversion: "1"\nfiles:\n  - name: x.bin\n    path: x.bin\n',
  )
  t.is((await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])).code, 0)
  const [entry] = await ferryJson<Array<{ root: string }>>(['ls', 'rel', '--store', store])

  const all = await ferry(['verify', '--store', store])
  t.is(all.code, 0, all.stderr)
  t.regex(all.stdout, /^verified \d+ blocks, .*: ok$/m)
  t.is(all.stderr, '')
  const report = await ferryJson<{ ok: boolean; blocks: number; bytes: number; problems: unknown[] }>([
    'verify',
    '--store',
    store,
  ])
  t.like(report, { ok: true, problems: [] })
  t.true(report.bytes >= 500_000)

  const one = await ferryJson<{ ok: boolean; blocks: number }>(['verify', 'rel', '--store', store])
  t.true(one.ok)
  t.is(one.blocks, report.blocks, 'one head in the store: the same blocks')
  const byCid = await ferryJson<{ ok: boolean; blocks: number; bytes: number }>([
    'verify',
    entry.root,
    '--store',
    store,
  ])
  t.true(byCid.ok)
  t.true(byCid.blocks < report.blocks, 'an entry alone has fewer blocks than its release')
  t.true(byCid.bytes >= 500_000)
})

test('gc removes what only a replaced version reached, and keeps everything a head reaches', async (t) => {
  const { dir, store } = await initStore(t)
  const files = {
    onlyV1: pseudoRandom(1024 * 1024, 'gc/only-v1'),
    shared: pseudoRandom(1024 * 1024, 'gc/shared'),
    onlyV2: pseudoRandom(1024 * 1024, 'gc/only-v2'),
    pinned: pseudoRandom(200_000, 'gc/pinned'),
  }
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes)
  const reqFor = (version: string, names: string[]) =>
    writeRequirements(
      dir,
      `rel-${version}.yaml`,
      `module: m\nversion: "${version}"\nfiles:\n${names.map((n) => `  - name: ${n}\n    path: ${n}\n`).join('')}`,
    )
  const build = async (req: string, name: string, version: string) => {
    const run = await ferry(['bom', 'build', req, '--name', name, '--version', version, '--store', store])
    t.is(run.code, 0, run.stderr)
  }
  await build(await reqFor('1', ['onlyV1', 'shared']), 'rel', '1')
  await build(
    await writeRequirements(
      dir,
      'pin.yaml',
      'module: p\nversion: "1"\nfiles:\n  - name: pinned\n    path: pinned\n',
    ),
    'pin',
    '1',
  )
  const v1 = await ferryJson<Array<{ name: string; root: string }>>(['ls', 'rel', '--store', store])
  const v1Root = (await ferryJson<HeadSummary[]>(['ls', '--store', store])).find(
    (h) => h.name === 'rel',
  )!.root
  const onlyV1Root = v1.find((e) => e.name === 'onlyV1')!.root

  // Nothing is unreachable yet.
  const idle = await ferryJson<GcResult>(['gc', '--store', store])
  t.deepEqual(Object.keys(idle).sort(), ['blocksRemoved', 'bytesFreed', 'bytesRemoved', 'packsRewritten'])
  for (const value of Object.values(idle)) t.is(typeof value, 'number')
  t.is(idle.blocksRemoved, 0)
  t.is(idle.bytesRemoved, 0)

  // Version 2 replaces the head `rel` (same name, same publisher): onlyV1 is now unreachable.
  await build(await reqFor('2', ['shared', 'onlyV2']), 'rel', '2')
  const before = await ferryJson<Status>(['status', '--store', store])
  const result = await ferryJson<GcResult>(['gc', '--store', store])
  t.true(
    result.blocksRemoved >= 4,
    `${result.blocksRemoved} blocks removed (chunks, file node, old BOM, old head)`,
  )
  t.true(
    result.bytesRemoved >= files.onlyV1.byteLength &&
      result.bytesRemoved < files.onlyV1.byteLength + 64 * 1024,
    `${result.bytesRemoved} bytes removed for a ${files.onlyV1.byteLength} byte file`,
  )
  const after = await ferryJson<Status>(['status', '--store', store])
  t.is(after.store.blocks, before.store.blocks - result.blocksRemoved)
  t.is(after.store.bytes, before.store.bytes - result.bytesRemoved)
  t.deepEqual(after.heads, before.heads, 'gc changes no head')

  const gone = await ferry(['cat', onlyV1Root, '--store', store])
  t.is(gone.code, 1)
  t.regex(gone.stderr, /ERR_NOT_FOUND/)
  t.regex((await ferry(['ls', v1Root, '--store', store])).stderr, /ERR_NOT_FOUND/, 'the old BOM is gone too')

  for (const [target, bytes] of [
    ['rel/m/shared', files.shared],
    ['rel/m/onlyV2', files.onlyV2],
    ['pin/p/pinned', files.pinned],
  ] as const) {
    const cat = await ferry(['cat', target, '--store', store])
    t.is(cat.code, 0, cat.stderr)
    t.is(sha256Hex(cat.bytes), sha256Hex(bytes), `${target} survives gc`)
  }
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, verify.stderr)

  const second = await ferryJson<GcResult>(['gc', '--store', store])
  t.is(second.blocksRemoved, 0, 'a second gc finds nothing more')
  const human = await ferry(['gc', '--store', store])
  t.regex(human.stdout, /^removed 0 blocks \(0 B\); rewrote 0 packs, freed 0 B$/m)
})

test('gc reclaims the blocks a refused build left behind', async (t) => {
  const { dir, store } = await initStore(t)
  const bytes = pseudoRandom(700_000, 'gc/refused')
  await writeFile(join(dir, 'x.bin'), bytes)
  const req = await writeRequirements(
    dir,
    'x.yaml',
    `module: m\nversion: "1"\nfiles:\n  - name: x.bin\n    path: x.bin\n    sha256: ${'c'.repeat(64)}\n`,
  )
  const run = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
  t.regex(run.stderr, /ERR_CHECKSUM_MISMATCH/)
  const before = await ferryJson<Status>(['status', '--store', store])
  t.deepEqual(before.heads, [])
  t.true(
    before.store.bytes >= bytes.byteLength,
    'the checksum is known only after ingest: blocks stay until gc',
  )

  const result = await ferryJson<GcResult>(['gc', '--store', store])
  t.is(result.blocksRemoved, before.store.blocks)
  t.is(result.bytesRemoved, before.store.bytes)
  t.like(await ferryJson<Status>(['status', '--store', store]), { store: { blocks: 0, bytes: 0 } })
})

test('cat of a CID that is not there, or of something that is not a CID', async (t) => {
  const { store } = await initStore(t)
  const absent = await ferry([
    'cat',
    'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    '--store',
    store,
  ])
  t.is(absent.code, 1)
  t.regex(absent.stderr, /^ferry: ERR_NOT_FOUND: /)
  const junk = await ferry(['cat', 'bafyNOTACID', '--store', store])
  t.is(junk.code, 1)
  t.regex(junk.stderr, /^ferry: ERR_INVALID_ARGUMENT: 'bafyNOTACID' is not a CID/)
})
