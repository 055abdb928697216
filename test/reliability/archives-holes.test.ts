import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
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
} from '../helpers/archive.js'
import { ferry, ferryJson, initStore, pseudoRandom, sha256Hex } from '../helpers/cli.js'
import { daemonStatus, spawnDaemon } from '../helpers/ferry-daemon.js'

/*
 * The archive holes of issue 18, each through the real CLI (and a daemon
 * where the hole was a dead daemon): a corrupt archive bigger than one read
 * (4 MiB) crashed the import with EBADF; gc between the parts of a split
 * import dropped the parts already in; a folder import did not name its bad file.
 */

/** A stack frame line, as Node prints them: a refusal must never show one. */
const STACK = /\n\s+at .+\(?.+:\d+:\d+\)?/

/** A publisher with head `demo` (a 14 MiB file: the archive spans four 4 MiB reads), and a site trusting it. */
async function publisherAndSite(t: Parameters<typeof initStore>[0], size = 14 * MiB) {
  const a = await initStore(t)
  const b = await initStore(t)
  const content = pseudoRandom(size, `archives-holes/${size}`)
  await writeFile(join(a.dir, 'app.bin'), content)
  await buildRelease(a.dir, a.store, {
    name: 'demo',
    version: '1',
    files: [{ name: 'app.bin', path: 'app.bin' }],
  })
  await trustPublisher(b.store, a.store)
  return { a, b, content }
}

test('blocks corrupt in the first 4 MiB, or garbage after the end, are refused typed by the CLI and by a daemon that keeps running', async (t) => {
  const { a, b } = await publisherAndSite(t)
  const archive = join(a.dir, 'demo.car')
  await ferryJson<ExportSummary>(['export', 'demo', '--out', archive, '--store', a.store])
  const good = await readFile(archive)
  t.true(good.byteLength > 12 * MiB)
  // The site already holds the blocks: the import then runs ahead of its reads, which is when a
  // refusal found the next read still running (EBADF once the file was closed).
  const first = await ferryJson<ImportSummary[]>(['import', archive, '--store', b.store])
  t.is(first[0].heads[0].status, 'published')
  const before = await lsHeads(b.store)
  const cases: Array<{ file: string; code: string }> = []
  for (let i = 1; i <= 8; i++) {
    const flipped = Buffer.from(good)
    flipped[i * 450_000] ^= 0x20 // inside a data block of the first read
    const file = join(a.dir, `flipped-${i}.car`)
    await writeFile(file, flipped)
    cases.push({ file, code: 'ERR_CORRUPT_BLOCK' })
  }
  const garbage = join(a.dir, 'garbage.car')
  await writeFile(
    garbage,
    Buffer.concat([good, Buffer.from(pseudoRandom(64 * 1024, 'archives-holes/garbage'))]),
  )
  cases.push({ file: garbage, code: 'ERR_BAD_ARCHIVE' })
  for (const c of cases) {
    const run = await ferry(['import', c.file, '--store', b.store])
    t.not(run.code, 0, `${c.file}: exit`)
    t.is(refusal(run).code, c.code, `${c.file}: ${run.stderr}`)
    t.false(STACK.test(run.stderr), `${c.file}: no stack trace: ${run.stderr}`)
  }
  t.deepEqual(await lsHeads(b.store), before)

  const daemon = await spawnDaemon(b.store, [], { t })
  for (const c of cases) {
    const run = await ferry(['import', c.file, '--store', b.store])
    t.is(refusal(run).code, c.code, `${c.file} through the daemon: ${run.stderr}`)
    t.false(STACK.test(run.stderr), `${c.file} through the daemon: no stack trace`)
    t.false(daemon.exited, `${c.file}: the daemon still runs\n${daemon.tail()}`)
    if (daemon.exited) break
  }
  t.deepEqual((await daemonStatus(b.store)).heads, before)
  // The daemon imports the good archive after the bad ones (no arena or slot left stuck).
  const done = await ferryJson<ImportSummary[]>(['import', archive, '--store', b.store])
  t.is(done[0].heads[0].status, 'current')
  const verified = await ferry(['verify', '--store', b.store])
  t.is(verified.code, 0, verified.stderr)
})

test('gc between the parts of a split import keeps the parts already imported, and the waiting line names the missing parts', async (t) => {
  const { a, b, content } = await publisherAndSite(t, 3 * MiB + 4321)
  const partsDir = join(a.dir, 'parts')
  await mkdir(partsDir)
  const exported = await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--out',
    join(partsDir, 'demo.car'),
    '--split',
    '1M',
    '--store',
    a.store,
  ])
  const n = exported.parts.length
  t.true(n >= 3, `${n} parts`)
  const paths = exported.parts.map((p) => p.path)
  // Parts 1 and 3 first, then gc, then the others.
  const first = await ferry(['import', paths[0], paths[2], '--store', b.store])
  t.is(first.code, 0, first.stderr)
  const missing = [2, ...Array.from({ length: n - 3 }, (_, i) => i + 4)]
  t.regex(first.stdout, /waiting/)
  for (const index of missing)
    t.true(first.stdout.includes(`demo.car.${String(index).padStart(3, '0')}`), first.stdout)
  t.regex(first.stdout, new RegExp(`part\\(s\\) ${missing.join(', ')} of ${n}`), first.stdout)
  const gc = await ferry(['gc', '--store', b.store])
  t.is(gc.code, 0, gc.stderr)
  const rest = await ferryJson<ImportSummary[]>([
    'import',
    ...paths.filter((_, i) => i !== 0 && i !== 2),
    '--store',
    b.store,
  ])
  t.deepEqual(
    rest.at(-1)?.heads.map((h) => h.status),
    ['published'],
    JSON.stringify(rest.at(-1)?.heads),
  )
  const cat = await ferry(['cat', 'demo/app/app.bin', '--store', b.store])
  t.is(cat.code, 0, cat.stderr)
  t.is(sha256Hex(cat.bytes), sha256Hex(content))
  // Once published, the import is no longer pending: gc keeps the head and verify passes.
  t.is((await ferry(['gc', '--store', b.store])).code, 0)
  const verified = await ferry(['verify', '--store', b.store])
  t.is(verified.code, 0, verified.stderr)
})

test('a folder import names its bad file', async (t) => {
  const { a, b } = await publisherAndSite(t, 3 * MiB + 99)
  const partsDir = join(a.dir, 'parts')
  await mkdir(partsDir)
  await ferryJson<ExportSummary>([
    'export',
    'demo',
    '--out',
    join(partsDir, 'demo.car'),
    '--split',
    '1M',
    '--store',
    a.store,
  ])
  const names = (await readdir(partsDir)).sort()
  const bad = join(partsDir, names[1])
  const bytes = await readFile(bad)
  bytes[bytes.byteLength - 100] ^= 0x01
  await writeFile(bad, bytes)
  const run = await ferry(['import', partsDir, '--store', b.store])
  t.not(run.code, 0)
  t.is(refusal(run).code, 'ERR_CORRUPT_BLOCK', run.stderr)
  t.true(refusal(run).message.includes(names[1]), `names ${names[1]}: ${run.stderr}`)
  t.deepEqual(await lsHeads(b.store), [])
  const verified = await ferry(['verify', '--store', b.store])
  t.is(verified.code, 0, verified.stderr)
})
