import test, { type ExecutionContext } from 'ava'
import type { Location } from '../../../../store/packs/format.js'
import type { PackBlockstoreInit } from '../../../../store/packs/pack-blockstore.js'
import {
  MAX_GAP_BYTES,
  MAX_RUN_BYTES,
  type ReadRunsOptions,
  readRuns,
} from '../../../../store/packs/read-runs.js'
import { tempDir } from '../../../helpers/cli.js'
import { blocks, openPacks, putAll } from '../../../helpers/packs.js'

type Blocks = ReturnType<typeof blocks>

/** A PackBlockstore in a temporary folder holding `list`, closed and removed after the test. */
async function storeWith(t: ExecutionContext, list: Blocks, init: PackBlockstoreInit = {}) {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const s = await openPacks(dir, init)
  t.teardown(() => s.close())
  await putAll(s.store, list)
  return s.store
}

/** The runs readRuns makes of `wanted`, with a copy of each block's bytes (undefined for one not held). */
async function readAll(
  store: Awaited<ReturnType<typeof storeWith>>,
  wanted: Blocks,
  options: ReadRunsOptions = {},
) {
  const locations = await store.locateMany(wanted.map((b) => b.cid))
  const runs: Array<{ start: number; end: number; bytes: number; buffer: ArrayBufferLike }> = []
  const read: Array<Uint8Array | undefined> = []
  for await (const run of readRuns(store, locations, options)) {
    runs.push({ start: run.start, end: run.end, bytes: run.span.byteLength, buffer: run.span.buffer })
    for (let i = run.start; i < run.end; i++) {
      const location = locations[i]
      read.push(
        location === undefined
          ? undefined
          : run.span.slice(location.offset - run.offset, location.offset - run.offset + location.length),
      )
    }
  }
  return { locations, runs, read }
}

/** Every block read is the block's own bytes, as a single read (`get`) gives them, in the order asked. */
async function assertSameAsSingleReads(
  t: ExecutionContext,
  store: Awaited<ReturnType<typeof storeWith>>,
  wanted: Blocks,
  read: Array<Uint8Array | undefined>,
) {
  t.is(read.length, wanted.length)
  for (let i = 0; i < wanted.length; i++) {
    // Buffer.equals, not deepEqual: ava compares large arrays slowly.
    const bytes = Buffer.from(read[i] ?? [])
    t.true(bytes.equals(await store.get(wanted[i].cid)), `block ${i} as a single read gives it`)
    t.true(bytes.equals(wanted[i].bytes), `block ${i} as stored`)
  }
}

/** The runs cover the blocks asked for one after another, each run in one pack and within the limits. */
function assertRunsSound(
  t: ExecutionContext,
  locations: Array<Location | undefined>,
  runs: Array<{ start: number; end: number; bytes: number }>,
) {
  let next = 0
  for (const run of runs) {
    t.is(run.start, next)
    t.true(run.end > run.start)
    next = run.end
    const inRun = locations.slice(run.start, run.end)
    if (inRun[0] === undefined) {
      t.is(inRun.length, 1, 'a block not held is a run of its own')
      continue
    }
    const located = inRun as Location[]
    t.true(
      located.every((l) => l.pack === located[0].pack),
      'one pack a run',
    )
    for (let i = 1; i < located.length; i++) {
      const gap = located[i].offset - (located[i - 1].offset + located[i - 1].length)
      t.true(gap >= 0 && gap <= MAX_GAP_BYTES, `gap ${gap}`)
    }
    t.true(run.bytes <= MAX_RUN_BYTES || located.length === 1, `${run.bytes} bytes in one read`)
  }
  t.is(next, locations.length)
}

test('adjacent blocks are read with one read, and read as a single read gives them', async (t) => {
  const list = blocks(20, 'adjacent')
  const store = await storeWith(t, list)
  const { locations, runs, read } = await readAll(store, list)
  t.is(runs.length, 1)
  assertRunsSound(t, locations, runs)
  await assertSameAsSingleReads(t, store, list, read)
})

test('a run spans at most MAX_RUN_BYTES; a block larger than that is a run of its own', async (t) => {
  const list = [
    ...blocks(12, 'large', 200_000),
    ...blocks(1, 'huge', MAX_RUN_BYTES + 1000),
    ...blocks(2, 'tail'),
  ]
  const store = await storeWith(t, list)
  const { locations, runs, read } = await readAll(store, list)
  assertRunsSound(t, locations, runs)
  // Five 200 kB blocks and their headers fit in 1 MiB, six do not.
  t.deepEqual(
    runs.map((r) => r.end - r.start),
    [5, 5, 2, 1, 2],
  )
  t.is(runs[3].bytes, MAX_RUN_BYTES + 1000)
  await assertSameAsSingleReads(t, store, list, read)
})

test('blocks not asked for in between are read along up to MAX_GAP_BYTES, and split a run past it', async (t) => {
  const list = blocks(20, 'gaps', 1000)
  const store = await storeWith(t, list)
  // One 1000-byte block left out: a gap of about 1 kB. Five left out: over 5 kB.
  const wanted = [list[0], list[1], list[3], list[4], list[10], list[11]]
  const { locations, runs, read } = await readAll(store, wanted)
  assertRunsSound(t, locations, runs)
  t.deepEqual(
    runs.map((r) => [r.start, r.end]),
    [
      [0, 4],
      [4, 6],
    ],
  )
  await assertSameAsSingleReads(t, store, wanted, read)
})

test('blocks in different packs, out of order and missing keep the order asked, each run in one pack', async (t) => {
  const list = blocks(30, 'packs')
  const store = await storeWith(t, list, { maxPackBytes: 100_000, flushBytes: 50_000 })
  const packs = new Set((await store.locateMany(list.map((b) => b.cid))).map((l) => l?.pack))
  t.true(packs.size >= 3, `${packs.size} packs`)
  const missing = blocks(2, 'not-stored')
  const wanted = [
    list[12],
    list[13],
    list[14],
    missing[0],
    list[2],
    list[1],
    list[0],
    list[25],
    list[26],
    missing[1],
    list[8],
    list[9],
    list[10],
    list[11],
  ]
  const { locations, runs, read } = await readAll(store, wanted)
  assertRunsSound(t, locations, runs)
  t.is(read[3], undefined)
  t.is(read[9], undefined)
  const held = wanted.filter((_, i) => i !== 3 && i !== 9)
  await assertSameAsSingleReads(
    t,
    store,
    held,
    read.filter((_, i) => i !== 3 && i !== 9),
  )
  // Blocks earlier in the pack than the one before them start a new run.
  t.true(runs.some((r) => r.start === 5) && runs.some((r) => r.start === 6))
})

test('with a window and reused buffers, reads run ahead over a few buffers and give the same bytes', async (t) => {
  const list = blocks(25, 'window', 200_000)
  const store = await storeWith(t, list)
  const { locations, runs, read } = await readAll(store, list, { window: 3, reuseBuffers: true })
  assertRunsSound(t, locations, runs)
  t.is(runs.length, 5)
  t.is(new Set(runs.map((r) => r.buffer)).size, 3, 'one buffer a run in the window, reused')
  await assertSameAsSingleReads(t, store, list, read)
})

test('an aborted signal stops the reads', async (t) => {
  const list = blocks(3, 'abort')
  const store = await storeWith(t, list)
  const controller = new AbortController()
  controller.abort()
  await t.throwsAsync(readAll(store, list, { signal: controller.signal }), {
    any: true,
    name: 'AbortError',
  })
})
