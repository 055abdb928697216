import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test, { type ExecutionContext } from 'ava'
import {
  type BuildSummary,
  buildRelease,
  type ImportSummary,
  lsHeads,
  packBytes,
  publisherKey,
  refusal,
  storeStatus,
} from '../helpers/archive.js'
import {
  ferry,
  ferryJson,
  initStore,
  tempDir,
  writePseudoRandomFile,
  writeRequirements,
} from '../helpers/cli.js'
import { background, holdArchive, packsGrew, soundStore } from '../helpers/concurrency-kill9.js'
import { spawnDaemon } from '../helpers/ferry-daemon.js'

/*
 * Concurrent commands on one store (issue 18): gc while an import runs, two imports of the same
 * archive, builds racing for a name. Through a daemon they all run, and nothing is lost: no block
 * of a complete head is collected, every head is complete and the store verifies, and same-name
 * builds never share a seq. Without a daemon, a second process on the store is refused at once
 * with ERR_STORE_LOCKED, and the first completes.
 */

const MiB = 1024 * 1024
const SIZE = 48 * MiB

interface Fixture {
  dir: string
  publisher: string
  archive: string
  root: string
  /** Bytes of the archive's head. */
  bytes: number
  /** The publisher's key (read once: parallel tests would race for its store's lock). */
  key: string
}
let fixture: Fixture | undefined
let cleanup: (() => Promise<void>) | undefined

test.before(async () => {
  const temp = await tempDir('ferry-concurrency-')
  cleanup = temp.cleanup
  const dir = temp.dir
  const publisher = join(dir, 'publisher')
  if ((await ferry(['init', '--store', publisher])).code !== 0) throw new Error('init')
  for (const name of ['big.bin', 'x.bin', 'y.bin'])
    await writePseudoRandomFile(join(dir, name), name === 'big.bin' ? SIZE : SIZE / 2, `concurrency/${name}`)
  const build = await buildRelease(dir, publisher, {
    name: 'big',
    version: '1',
    files: [{ name: 'big.bin', path: join(dir, 'big.bin') }],
  })
  for (const file of ['x', 'y'])
    await writeRequirements(
      dir,
      `${file}.yaml`,
      `module: m\nversion: "1"\nfiles:\n  - name: ${file}.bin\n    path: ${file}.bin\n`,
    )
  const archive = join(dir, 'big.car')
  await ferryJson(['export', 'big', '--out', archive, '--store', publisher])
  const bytes = (await storeStatus(publisher)).store.bytes
  fixture = { dir, publisher, archive, root: build.root, bytes, key: await publisherKey(publisher) }
})
test.after.always(async () => {
  await cleanup?.()
})

/** A fresh store trusting the publisher, with a small complete head `base` built before anything races. */
async function site(t: ExecutionContext): Promise<{ dir: string; store: string; f: Fixture }> {
  if (fixture === undefined) throw new Error('no fixture')
  const { dir, store } = await initStore(t)
  const trust = await ferry(['trust', 'add', fixture.key, '--store', store])
  if (trust.code !== 0) throw new Error(`trust add: ${trust.stderr}`)
  await buildRelease(fixture.dir, store, {
    name: 'base',
    version: '1',
    files: [{ name: 'y.bin', path: join(fixture.dir, 'y.bin') }],
  })
  return { dir, store, f: fixture }
}

/** `bom build` args for head `name` from one of the fixture's files. */
function buildArgs(f: Fixture, store: string, name: string, version: string, file: string): string[] {
  return [
    ...['bom', 'build', join(f.dir, `${file}.yaml`), '--name', name, '--version', version],
    ...['--store', store],
  ]
}

test('without a daemon, a second command on a busy store is refused with ERR_STORE_LOCKED and the first completes', async (t) => {
  const { dir, store, f } = await site(t)
  // The archive comes through a FIFO held half-way: the import is certainly mid-run meanwhile.
  const held = await holdArchive(t, join(dir, 'held.car'), f.archive, SIZE / 2)
  const importing = background(t, ['import', held.path, '--store', store, '--json'])
  await held.firstWritten
  t.false(importing.ended(), 'the import waits for the rest of the archive')
  for (const args of [
    ['gc', '--store', store],
    ['import', f.archive, '--store', store],
    buildArgs(f, store, 'big', '2', 'x'),
  ]) {
    const run = await ferry(args)
    t.is(run.code, 1, args.join(' '))
    t.is(refusal(run).code, 'ERR_STORE_LOCKED', `${args.join(' ')}: ${run.stderr}`)
  }
  t.false(importing.ended(), 'the import still ran when the others were refused')
  await held.release()
  const done = await importing.done
  t.is(done.code, 0, done.stderr)
  t.like((JSON.parse(done.stdout) as ImportSummary[])[0].heads[0], { name: 'big', status: 'published' })

  // Builds racing for a name, started together: whichever opens the store second is refused (or,
  // had the first already finished, runs after it); either way no two share a seq.
  const seqs: number[] = []
  for (let round = 0; round < 2; round++) {
    const runs = await Promise.all(
      ['x', 'y'].map(
        (file) => background(t, [...buildArgs(f, store, 'rel', `${round}${file}`, file), '--json']).done,
      ),
    )
    for (const run of runs) {
      if (run.code === 0) seqs.push((JSON.parse(run.stdout) as BuildSummary).seq)
      else t.is(refusal(run).code, 'ERR_STORE_LOCKED', run.stderr)
    }
  }
  t.log(`racing builds published seqs ${seqs.join(', ')}`)
  t.true(seqs.length >= 2, 'each round published at least one build')
  // Pushed in the order the builds were started, not the order they published: compare as a set.
  t.deepEqual(
    [...seqs].sort((a, b) => a - b),
    seqs.map((_, i) => i + 1),
    'no two builds share a seq',
  )

  const heads = await soundStore(t, store, 'after the refusals')
  t.deepEqual(
    heads.map((h) => [h.name, h.seq]),
    [
      ['base', 1],
      ['big', 1],
      ['rel', seqs.length],
    ],
  )
})

test('through a daemon, gc asked for while an import runs waits for it and collects nothing it or a complete head needs', async (t) => {
  const { dir, store, f } = await site(t)
  const daemon = await spawnDaemon(store, [], { t })
  const before = await packBytes(store)
  const held = await holdArchive(t, join(dir, 'held.car'), f.archive, SIZE / 2)
  const importing = background(t, ['import', held.path, '--store', store, '--json'])
  await held.firstWritten
  t.true(await packsGrew(store, before, SIZE / 4, importing), 'the import stored part of the archive')
  // gc runs alone in the daemon (daemon/ops/store-gate.ts): asked for now, it waits for the import.
  const gcs = [0, 1, 2].map(() => background(t, ['gc', '--store', store, '--json']))
  await sleep(1_000)
  t.false(
    gcs.some((g) => g.ended()),
    'no gc ran while the import held blocks its head does not reach yet',
  )
  t.false(importing.ended(), 'the import still waits for the rest of the archive')
  await held.release()
  const done = await importing.done
  t.is(done.code, 0, done.stderr)
  const [result] = JSON.parse(done.stdout) as ImportSummary[]
  t.like(result.heads[0], { name: 'big', root: f.root, status: 'published', missingBlocks: 0 })
  for (const gc of await Promise.all(gcs.map((g) => g.done))) t.is(gc.code, 0, gc.stderr)

  const heads = await soundStore(t, store, 'after gc during the import')
  t.deepEqual(
    heads.map((h) => [h.name, h.complete]),
    [
      ['base', true],
      ['big', true],
    ],
  )
  // A gc now removes nothing: nothing unreachable was left, and nothing reachable goes.
  const gc = await ferryJson<{ blocksRemoved: number }>(['gc', '--store', store])
  t.is(gc.blocksRemoved, 0)
  await soundStore(t, store, 'after a last gc')
  t.is(await daemon.stop(), 0)
})

test('through a daemon, two imports of the same archive both complete and store it once', async (t) => {
  const { store, f } = await site(t)
  const daemon = await spawnDaemon(store, [], { t })
  const baseBytes = (await storeStatus(store)).store.bytes
  const first = background(t, ['import', f.archive, '--store', store, '--json'])
  const second = background(t, ['import', f.archive, '--store', store, '--json'])
  const results = await Promise.all([first.done, second.done])
  for (const r of results) t.is(r.code, 0, r.stderr)
  const outcomes = results.map((r) => (JSON.parse(r.stdout) as ImportSummary[])[0].heads[0])
  for (const o of outcomes) t.like(o, { name: 'big', root: f.root, missingBlocks: 0 })
  // Both may say "published" (each found the head new before either published it): the same signed head.
  for (const o of outcomes) t.true(['published', 'current'].includes(o.status), o.status)
  t.true(
    outcomes.some((o) => o.status === 'published'),
    'one of them published it',
  )
  const heads = await soundStore(t, store, 'after two imports')
  t.deepEqual(
    heads.map((h) => [h.name, h.seq, h.root]),
    [
      ['base', 1, heads[0].root],
      ['big', 1, f.root],
    ],
  )
  const status = await storeStatus(store)
  t.is(status.store.bytes, baseBytes + f.bytes, 'every block stored once')
  t.is(await daemon.stop(), 0)
})

test('through a daemon, builds racing for a name (with gc running) never share a seq and lose nothing', async (t) => {
  const { store, f } = await site(t)
  const daemon = await spawnDaemon(store, [], { t })
  const seqs: number[] = []
  const roots = new Map<number, string>()
  for (let round = 0; round < 3; round++) {
    const a = background(t, [...buildArgs(f, store, 'rel', `${round}a`, 'x'), '--json'])
    const b = background(t, [...buildArgs(f, store, 'rel', `${round}b`, 'y'), '--json'])
    const gc = background(t, ['gc', '--store', store, '--json'])
    const [ra, rb, rg] = await Promise.all([a.done, b.done, gc.done])
    t.is(rg.code, 0, rg.stderr)
    for (const r of [ra, rb]) {
      t.is(r.code, 0, r.stderr)
      const built = JSON.parse(r.stdout) as BuildSummary
      seqs.push(built.seq)
      roots.set(built.seq, built.root)
    }
    const heads = await soundStore(t, store, `round ${round + 1}`)
    const rel = heads.find((h) => h.name === 'rel')
    t.is(rel?.seq, Math.max(...seqs), 'the head is the build with the highest seq')
    t.is(rel?.root, roots.get(Math.max(...seqs)))
  }
  t.deepEqual(
    [...seqs].sort((x, y) => x - y),
    [1, 2, 3, 4, 5, 6],
    `six same-name builds, six seqs: ${seqs.join(', ')}`,
  )
  t.deepEqual(
    (await lsHeads(store)).map((h) => h.name),
    ['base', 'rel'],
  )
  t.is(await daemon.stop(), 0)
})
