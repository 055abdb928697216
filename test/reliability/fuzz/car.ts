/*
 * Fuzz targets of the archive side: ferry's CAR reader on its own (bytes in
 * memory), and `importArchive` of a file into a real store on disk. Inputs
 * are edits of real archives a publisher store exported (a whole release, a
 * part of a split one, a delta with patches against a release the site
 * holds) and random bytes.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readCar } from '../../../store/car/reader.js'
import { exportArchive, importArchive, type Store, verify } from '../../../store/index.js'
import { readFromStream } from '../../../store/ingest/slot-reader.js'
import { carLayout } from '../../helpers/archive.js'
import { pseudoRandom, tempDir } from '../../helpers/cli.js'
import { buildRelease, demoVersions, newStore, type Teardown } from '../../helpers/store.js'
import type { FuzzTarget } from './harness.js'
import { type Edit, editBytes, edits, type Seed } from './mutate.js'

/** The stores and archives both targets start from. */
export interface ArchiveFixture {
  dir: string
  publisher: Store
  site: Store
  seeds: Seed[]
  close(): Promise<void>
}

/** Small releases: a fuzzed import reads a few hundred KiB, not the 2.5 MiB of demoVersions. */
function smallVersions() {
  return demoVersions().map((release) => ({
    ...release,
    files: Object.fromEntries(
      Object.entries(release.files).map(([name, bytes]) => [name, bytes.subarray(0, 160 * 1024)]),
    ),
  }))
}

async function seedOf(path: string): Promise<Seed> {
  const layout = await carLayout(path)
  return {
    bytes: await readFile(path),
    marks: [...layout.sections.flatMap((s) => [s.offset, s.blockOffset])],
  }
}

/**
 * A publisher with demo v1 and v2 (small), a site trusting it that holds
 * v1, and the seed archives: v1 whole, v2 as a delta against v1 (patches),
 * and the first part of v1 split.
 */
export async function archiveFixture(): Promise<ArchiveFixture> {
  const { dir, cleanup } = await tempDir('ferry-fuzz-car-')
  const closers: Array<() => Promise<void>> = [cleanup]
  const t: Teardown = { teardown: (fn) => void closers.unshift(async () => fn()) }
  const close = async () => {
    for (const fn of closers) await fn()
  }
  try {
    const publisher = await newStore(t, dir, 'publisher')
    const site = await newStore(t, dir, 'site', [publisher])
    const [v1, v2] = smallVersions()
    const built1 = await buildRelease(publisher, dir, v1)
    const whole = join(dir, 'v1.car')
    await exportArchive(publisher, { heads: ['demo'], out: whole })
    const split = join(dir, 'v1-split.car')
    const parts = await exportArchive(publisher, { heads: ['demo'], out: split, splitBytes: 96 * 1024 })
    await buildRelease(publisher, dir, v2)
    const delta = join(dir, 'v2-delta.car')
    await exportArchive(publisher, { heads: ['demo'], out: delta, base: [built1.root] })
    await importArchive(site, whole)
    const seeds = [await seedOf(whole), await seedOf(delta), await seedOf(parts.parts[0].path)]
    return { dir, publisher, site, seeds, close }
  } catch (err) {
    await close()
    throw err
  }
}

/**
 * A publisher with one release of `bytes` pseudo-random bytes (more than a
 * read slot of 4 MiB, so the import reads ahead while it parses), a site
 * trusting it, and that archive as the only seed.
 */
export async function bigArchiveFixture(bytes = 5 * 1024 * 1024): Promise<ArchiveFixture> {
  const { dir, cleanup } = await tempDir('ferry-fuzz-bigcar-')
  const closers: Array<() => Promise<void>> = [cleanup]
  const t: Teardown = { teardown: (fn) => void closers.unshift(async () => fn()) }
  const close = async () => {
    for (const fn of closers) await fn()
  }
  try {
    const publisher = await newStore(t, dir, 'publisher')
    const site = await newStore(t, dir, 'site', [publisher])
    await buildRelease(publisher, dir, {
      name: 'big',
      version: '1',
      files: { 'big.bin': pseudoRandom(bytes, 'fuzz/big') },
    })
    const whole = join(dir, 'big.car')
    await exportArchive(publisher, { heads: ['big'], out: whole })
    return { dir, publisher, site, seeds: [await seedOf(whole)], close }
  } catch (err) {
    await close()
    throw err
  }
}

/** ferry's CAR reader over the edited bytes: roots, then every block verified; the arena's slots given back. */
export function carReaderTarget(fixture: ArchiveFixture): FuzzTarget<Edit> {
  const { site, seeds } = fixture
  return {
    name: 'car reader',
    arbitrary: edits(seeds),
    async check(edit) {
      const bytes = editBytes(seeds, edit)
      const arena = site.pipeline.importArenas.acquire()
      try {
        const car = readCar(readFromStream([bytes]), arena, site.pipeline.hasher)
        for await (const block of car.blocks) {
          const slot = arena.slotOf(block.bytes)
          if (slot !== undefined) arena.release(slot)
        }
        await car.roots()
      } finally {
        site.pipeline.importArenas.release(arena)
      }
    },
    async close() {},
  }
}

/** `importArchive` of the edited archive, written to a file, into the site store (which holds v1). */
export function archiveImportTarget(fixture: ArchiveFixture, name = 'archive import'): FuzzTarget<Edit> {
  const { site, seeds, dir } = fixture
  const file = join(dir, 'fuzzed.car')
  return {
    name,
    arbitrary: edits(seeds),
    async check(edit) {
      await writeFile(file, editBytes(seeds, edit))
      await importArchive(site, file)
    },
    async alive() {
      const report = await verify(site)
      return report.ok
        ? undefined
        : `the site store no longer verifies: ${JSON.stringify(report.problems).slice(0, 500)}`
    },
    async close() {},
  }
}
