/* The size of a delta archive for a version pair, against an rsync batch and casync's new chunks. */
import { rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { execFileAsync, fileSize, kib, log, missing, RELEASE, type Tools } from './archive-common.js'
import { regularFilesBelow } from './data.js'
import {
  type ExportResult,
  ferryJson,
  type ImportResult,
  initTrustingStore,
  writeRequirements,
} from './ferry.js'
import { type ReleasePair, writeReleasePair } from './release.js'

/** A baseline's size, or why it could not be measured. */
export type Baseline = { bytes: number; detail: string } | { missing: string }

export interface DeltaResult {
  release: Omit<ReleasePair, 'v1' | 'v2'>
  /**
   * `ferry export release --base inventory.json` after v2 was built: file size, blocks written and left out,
   * blocks carried as patches and their bytes, and the wall seconds of that export and of its import.
   */
  ferry: {
    bytes: number
    blocks: number
    skipped: number
    patched?: number
    patchBytes?: number
    exportSeconds?: number
    importSeconds?: number
    /** The same delta exported with `--no-patches`. */
    chunksOnlyBytes?: number
  }
  /** The full v2 archive, for scale. */
  ferryFullBytes: number
  /** The delta archive through `zstd -3`, for comparison with casync's compressed chunks; undefined without zstd. */
  ferryZstdBytes?: number
  rsync: Baseline
  casync: Baseline
}

/** Builds `requirements` into `store` as version `version` of RELEASE; not timed. */
async function buildRelease(store: string, requirements: string, version: string): Promise<void> {
  await ferryJson(['bom', 'build', requirements, '--name', RELEASE, '--version', version, '--store', store])
}

/** Imports `archive` into `store` and fails unless every head in it was published. */
async function importPublished(store: string, archive: string): Promise<void> {
  const result = await ferryJson<ImportResult[]>(['import', archive, '--store', store])
  const states = result.flatMap((file) => file.heads.map((head) => head.status))
  if (states.some((state) => state !== 'published'))
    throw new Error(`import of ${archive}: ${states.join(', ')}`)
}

/**
 * ferry's delta: v1 carried to the site, its inventory carried back, v2
 * exported against it. `dir` holds `v1.yaml` and `v2.yaml` (requirements of
 * head RELEASE); the stores and archives are written below it.
 */
export async function ferryDelta(
  dir: string,
  zstd: string | undefined,
): Promise<Omit<DeltaResult, 'release' | 'rsync' | 'casync'>> {
  const sender = join(dir, 'sender')
  const site = join(dir, 'site')
  await ferryJson(['init', '--store', sender])
  await buildRelease(sender, join(dir, 'v1.yaml'), '1')
  await ferryJson(['export', RELEASE, '--out', join(dir, 'v1.car'), '--store', sender])
  await initTrustingStore(site, sender)
  await importPublished(site, join(dir, 'v1.car'))
  const inventory = join(dir, 'inventory.json')
  await ferryJson(['inventory', '--out', inventory, '--store', site])
  await buildRelease(sender, join(dir, 'v2.yaml'), '2')
  const delta = join(dir, 'delta.car')
  const exportStarted = performance.now()
  // BENCH_DELTA_LEVEL: the patches' zstd level (ferry's default when unset).
  const level = process.env.BENCH_DELTA_LEVEL
  const result = await ferryJson<ExportResult>([
    'export',
    RELEASE,
    '--base',
    inventory,
    '--out',
    delta,
    '--store',
    sender,
    ...(level === undefined ? [] : ['--delta-level', level]),
  ])
  const exportSeconds = (performance.now() - exportStarted) / 1000
  // The same delta with whole chunks: what patches save.
  const chunksOnly = join(dir, 'delta-chunks.car')
  await ferryJson([
    'export',
    RELEASE,
    '--base',
    inventory,
    '--no-patches',
    '--out',
    chunksOnly,
    '--store',
    sender,
  ])
  const importStarted = performance.now()
  await importPublished(site, delta)
  const importSeconds = (performance.now() - importStarted) / 1000
  const full = join(dir, 'v2.car')
  await ferryJson(['export', RELEASE, '--out', full, '--store', sender])
  let ferryZstdBytes: number | undefined
  if (zstd !== undefined) {
    await execFileAsync(zstd, ['-q', '-3', '-f', delta, '-o', `${delta}.zst`])
    ferryZstdBytes = await fileSize(`${delta}.zst`)
  }
  return {
    ferry: {
      bytes: await fileSize(delta),
      blocks: result.blocks,
      skipped: result.skipped,
      patched: result.patched,
      patchBytes: result.patchBytes,
      exportSeconds,
      importSeconds,
      chunksOnlyBytes: await fileSize(chunksOnly),
    },
    ferryFullBytes: await fileSize(full),
    ferryZstdBytes,
  }
}

/** `rsync --only-write-batch=BATCH -r v2/ v1/`: the batch file is what would travel (v1/ is only read). */
export async function rsyncDelta(dir: string, rsync: string | undefined): Promise<Baseline> {
  if (rsync === undefined) return { missing: missing('rsync') }
  const batch = join(dir, 'rsync.batch')
  await execFileAsync(rsync, [`--only-write-batch=${batch}`, '-r', 'v2/', 'v1/'], { cwd: dir })
  return { bytes: await fileSize(batch), detail: 'batch file' }
}

/** The `.cacnk` files below a casync store: file name → size. */
async function casyncChunks(store: string): Promise<Map<string, number>> {
  const chunks = new Map<string, number>()
  for (const path of await regularFilesBelow(store)) {
    if (path.endsWith('.cacnk')) chunks.set(basename(path), (await stat(path)).size)
  }
  return chunks
}

/** casync: v2's chunks (compressed, as stored) that v1's store lacks, plus v2's index. */
async function casyncDelta(dir: string, casync: string | undefined): Promise<Baseline> {
  if (casync === undefined) return { missing: missing('casync') }
  await execFileAsync(casync, ['make', '--store=casync-v1', 'v1.caidx', 'v1/'], { cwd: dir })
  await execFileAsync(casync, ['make', '--store=casync-v2', 'v2.caidx', 'v2/'], { cwd: dir })
  const before = await casyncChunks(join(dir, 'casync-v1'))
  const after = await casyncChunks(join(dir, 'casync-v2'))
  const fresh = [...after].filter(([name]) => !before.has(name))
  const chunkBytes = fresh.reduce((sum, [, size]) => sum + size, 0)
  const indexBytes = await fileSize(join(dir, 'v2.caidx'))
  return {
    bytes: chunkBytes + indexBytes,
    detail: `${fresh.length} of ${after.size} chunks new, ${kib(chunkBytes)} KiB + index ${kib(indexBytes)} KiB`,
  }
}

export async function deltaBench(work: string, tools: Tools): Promise<DeltaResult> {
  const dir = join(work, 'delta')
  const pair = await writeReleasePair(join(dir, 'v1'), join(dir, 'v2'), 'archive/release')
  const { v1, v2, ...release } = pair
  log(`delta: ${release.description}`)
  for (const [version, files] of [['v1', v1] as const, ['v2', v2] as const]) {
    const entries = files.map((file) => ({ name: file.name, path: join(version, file.name) }))
    await writeRequirements(join(dir, `${version}.yaml`), RELEASE, version.slice(1), entries)
  }
  const ferry = await ferryDelta(dir, tools.zstd)
  log(`delta: ferry ${kib(ferry.ferry.bytes)} KiB`)
  const rsync = await rsyncDelta(dir, tools.rsync)
  const casync = await casyncDelta(dir, tools.casync)
  await rm(dir, { recursive: true, force: true })
  return { release, ...ferry, rsync, casync }
}
