/*
 * Refused imports must not leak (issue 18: a daemon may be fed many bad archives). Found by fuzzing:
 * every refused archive cost a new read arena (~30 MiB) that the hashing threads kept alive for ever
 * (RSS past 1 GiB after a few hundred), and once arenas could no longer be allocated, every import
 * left its archive file open.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { importArchive, isFerryError, verify } from '../../store/index.js'
import { ArenaPool } from '../../store/ingest/arena.js'
import { Hasher } from '../../store/ingest/hasher.js'
import { pseudoRandom } from '../helpers/cli.js'
import { testDir } from '../helpers/store.js'
import { archiveFixture } from './fuzz/car.js'
import type { Seed } from './fuzz/mutate.js'

/** The archive's bytes with one byte of a block in its middle flipped: read until that block, then ERR_CORRUPT_BLOCK. */
function corrupted(seed: Seed): Uint8Array {
  const bytes = Uint8Array.from(seed.bytes)
  // marks: [section offset, block offset] pairs; a block past the archive's start (heads, marker).
  const marks = seed.marks ?? []
  const blockOffset = marks[2 * Math.floor((marks.length / 2) * 0.6) + 1]
  bytes[blockOffset + 1] ^= 0x5a
  return bytes
}

test('refused imports: the hashing threads hold a bounded number of read arenas, not one per refused archive', async (t) => {
  const fixture = await archiveFixture()
  t.teardown(() => fixture.close())
  const { site } = fixture
  const file = join(fixture.dir, 'corrupt.car')
  await writeFile(file, corrupted(fixture.seeds[0]))
  const refusals = 24
  for (let i = 0; i < refusals; i++) {
    const err = await t.throwsAsync(importArchive(site, file))
    t.true(isFerryError(err, 'ERR_CORRUPT_BLOCK'), `${err?.name}: ${err?.message}`)
  }
  // Counted by the threads themselves, after every job sent before.
  const held = await site.pipeline.hasher.heldArenas()
  t.true(held <= 4, `the hashing threads hold ${held} arenas after ${refusals} refused imports`)
  // The arena is reused, and the good archive still imports.
  const good = join(fixture.dir, 'good.car')
  await writeFile(good, fixture.seeds[0].bytes)
  await importArchive(site, good)
  t.true((await site.pipeline.hasher.heldArenas()) <= 4)
  t.true((await verify(site)).ok)
})

/**
 * Run in a child process of its own (it takes all the WebAssembly memory the process may have, which
 * would fail other test files running in this one): a fresh store, every arena allocation failing, one
 * import; prints the open file descriptors before and after, and the error.
 */
const CHILD = `
import { readdirSync } from 'node:fs'
const { archiveFixture } = await import(process.argv[2] + '/test/reliability/fuzz/car.js')
const { newStore } = await import(process.argv[2] + '/test/helpers/store.js')
const { importArchive } = await import(process.argv[2] + '/store/index.js')
const { writeFile } = await import('node:fs/promises')
const fixture = await archiveFixture()
const closers = []
const fresh = await newStore({ teardown: (fn) => closers.unshift(fn) }, fixture.dir, 'fresh', [fixture.publisher])
const file = fixture.dir + '/v1.car'
await writeFile(file, fixture.seeds[0].bytes)
const fds = () => readdirSync('/proc/self/fd').length
const hog = []
try {
  for (let i = 0; i < 1e6; i++) hog.push(new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }))
} catch {}
const before = fds()
let error
for (let i = 0; i < 3; i++) {
  try { await importArchive(fresh, file) } catch (err) { error = err.message }
}
const after = fds()
hog.length = 0
for (const fn of closers) await fn()
await fixture.close()
process.stdout.write(JSON.stringify({ before, after, error }) + '\\n')
`

test('an import that cannot get a read arena (no memory left) closes its archive file', async (t) => {
  const dist = new URL('../..', import.meta.url).href
  const script = join(await testDir(t), 'child.mjs')
  await writeFile(script, CHILD)
  const child = spawn(process.execPath, [script, dist.replace(/\/$/, '')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    err += d
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  t.is(code, 0, err)
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
    before: number
    after: number
    error?: string
  }
  t.truthy(result.error, 'the imports failed for want of memory')
  t.is(
    result.after,
    result.before,
    `open files before ${result.before}, after three failed imports ${result.after}`,
  )
})

test('a dropped arena is forgotten by the hashing threads only once every job sent on it has answered', async (t) => {
  const hasher = new Hasher()
  t.teardown(() => hasher.close())
  const readBytes = 256 * 1024
  const pool = new ArenaPool(2, 0, readBytes, hasher)
  for (let round = 0; round < 16; round++) {
    const arena = pool.acquire()
    const slot = await arena.acquire()
    const base = arena.offset(slot)
    const bytes = arena.view(base, readBytes)
    bytes.set(pseudoRandom(readBytes, `leaks/${round}`))
    const ranges = Array.from({ length: 16 }, (_, i) => [base + i * 16384, base + (i + 1) * 16384])
    const jobs = ranges.slice(0, 12).map((range) => hasher.ranges(arena, range))
    // Dropped (its slot still held, as by a refused read) while its jobs are queued on the threads,
    pool.release(arena)
    // and a straggler job or two sent after: they must answer too, not find the arena gone.
    if (round % 2 === 1) await Promise.all(jobs)
    for (const range of ranges.slice(12)) jobs.push(hasher.ranges(arena, range))
    const digests = await Promise.all(jobs)
    for (const [i, digest] of digests.entries()) {
      const expected = createHash('sha256')
        .update(bytes.subarray(i * 16384, (i + 1) * 16384))
        .digest()
      t.deepEqual(Buffer.from(digest), expected)
    }
  }
  t.is(await hasher.heldArenas(), 0, 'every dropped arena was let go')
})
