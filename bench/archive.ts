/*
 * Archive benchmark (issue 3): `ferry export` against `tar -cf` of the same
 * files, `ferry import` against `openssl dgst -sha256` over the archive, the
 * peak RSS of both for a 2 GiB archive, and the size of a delta archive for a
 * version pair against an rsync batch and what casync would have to carry.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, stat } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import { table } from '../cli/output.js'
import { type DataFile, regularFilesBelow, settle, writePseudoRandomFile } from './data.js'
import {
  type ExportResult,
  ferryJson,
  type ImportResult,
  initTrustingStore,
  measuredFerry,
  writeRequirements,
} from './ferry.js'
import {
  type Cost,
  findProgram,
  isDisturbed,
  measured,
  median,
  requireProgram,
  TIME_BIN,
  undisturbed,
} from './measure.js'
import { type ReleasePair, writeReleasePair } from './release.js'
import { withTempDir } from './temp.js'

const execFileAsync = promisify(execFile)

const KiB = 1024
const MiB = 1024 * KiB

/** Measured runs per tool, alternating; medians are reported. */
const RUNS = 3
/** The throughput data set: this many pseudo-random files of FILE_BYTES (1 GiB in all). */
const SET_FILES = 4
const FILE_BYTES = 256 * MiB
/** The memory data set: twice as many files (2 GiB). */
const BIG_FILES = 8
const HEAD = 'bench'
const BIG_HEAD = 'big'
const RELEASE = 'release'

/** The targets the figures are judged against. */
const GOALS = {
  /** export MiB/s ÷ `tar -cf` MiB/s: at least this… */
  exportRatio: 0.8,
  /** …and below this the work is not done. */
  exportRatioNotDone: 0.5,
  /** import MiB/s ÷ `openssl dgst -sha256` MiB/s over the archive. */
  importRatio: 0.7,
  /** Peak RSS of export and of import, each, for a 2 GiB archive. */
  peakRssMiB: 200,
  /** ferry's delta archive ÷ rsync's batch, and ÷ casync's new chunks plus index: below this. */
  deltaRatio: 1,
}

function log(message: string): void {
  process.stderr.write(`bench archive: ${message}\n`)
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1)
const kib = (bytes: number): string => (bytes / KiB).toFixed(1)
const rssMiB = (cost: Cost): number => cost.peakRssKiB / KiB

/** Writes all dirty pages out, so that no write-back of an earlier step competes with a measured run. */
async function flush(): Promise<void> {
  await execFileAsync('sync')
}

/** The programs the benchmark runs; the optional ones are undefined when not installed. */
interface Tools {
  openssl: string
  tar: string
  rsync?: string
  casync?: string
  zstd?: string
}

async function findTools(): Promise<Tools> {
  return {
    openssl: await requireProgram('openssl', ['version'], 'apt-get install openssl'),
    tar: (await requireProgram('tar', ['--version'], 'apt-get install tar')).split('\n')[0],
    rsync: await findProgram('rsync'),
    casync: await findProgram('casync'),
    zstd: await findProgram('zstd'),
  }
}

const missing = (tool: string): string =>
  `${tool} is not installed (apt-get install -y ${tool}): not measured`

// ---------------------------------------------------------------- data sets

/** `count` pseudo-random files of FILE_BYTES, `part-FIRST.bin` on, in `dir`. */
async function writeParts(dir: string, first: number, count: number): Promise<DataFile[]> {
  await mkdir(dir, { recursive: true })
  const files: DataFile[] = []
  for (let k = first; k < first + count; k++) {
    const name = `part-${k}.bin`
    const file: DataFile = { name, path: join(dir, name), size: FILE_BYTES }
    await writePseudoRandomFile(file.path, file.size, `archive/part-${k}`)
    files.push(file)
  }
  return files
}

/** Builds `files` (in `work/data`) into `store` as head `name`, version 1; not timed. */
async function buildHead(work: string, store: string, name: string, files: DataFile[]): Promise<void> {
  const requirements = join(work, `${name}.yaml`)
  const entries = files.map((file) => ({ name: file.name, path: join('data', file.name) }))
  await writeRequirements(requirements, name, '1', entries)
  await ferryJson(['bom', 'build', requirements, '--name', name, '--version', '1', '--store', store])
}

const fileSize = async (path: string): Promise<number> => (await stat(path)).size

// ---------------------------------------------------------------- export, import

/** Timed `ferry export HEAD --out OUT` (the old output removed and everything flushed first). */
async function exportRun(store: string, head: string, out: string): Promise<{ cost: Cost }> {
  await rm(out, { force: true })
  await flush()
  return measuredFerry<ExportResult>(['export', head, '--out', out, '--store', store])
}

/** Timed `tar -cf OUT NAMES` in `dir`; with `durable`, followed by `sync OUT` (an fsync, like ferry's). */
async function tarRun(dir: string, names: string[], out: string, durable: boolean): Promise<{ cost: Cost }> {
  await rm(out, { force: true })
  await flush()
  const run = durable
    ? await measured('sh', ['-c', 'tar -cf "$0" "$@" && sync "$0"', out, ...names], { cwd: dir })
    : await measured('tar', ['-cf', out, ...names], { cwd: dir })
  const { stdout: _, ...cost } = run
  return { cost }
}

/** Timed `ferry import ARCHIVE` into a fresh store trusting `publisher` (made and removed untimed); checks the head was published. */
async function importRun(publisher: string, store: string, archive: string): Promise<{ cost: Cost }> {
  await rm(store, { recursive: true, force: true })
  await initTrustingStore(store, publisher)
  await flush()
  const { cost, result } = await measuredFerry<ImportResult[]>(['import', archive, '--store', store])
  const states = result.flatMap((file) => file.heads.map((head) => head.status))
  if (states.length === 0 || states.some((state) => state !== 'published')) {
    throw new Error(`import of ${archive} did not publish its head: ${states.join(', ') || 'no heads'}`)
  }
  await rm(store, { recursive: true, force: true })
  return { cost }
}

/** Timed `openssl dgst -sha256 FILE`. */
async function opensslRun(file: string): Promise<{ cost: Cost }> {
  const { stdout: _, ...cost } = await measured('openssl', ['dgst', '-sha256', file])
  return { cost }
}

interface ThroughputResult {
  files: number
  bytes: number
  archiveBytes: number
  tarBytes: number
  exportRuns: Array<{ ferry: Cost; tar: Cost; tarSync: Cost }>
  importRuns: Array<{ ferry: Cost; openssl: Cost }>
  /** Runs measured again because other processes were busy, and kept runs that still were. */
  repeated: number
  disturbed: number
  /** Export and tar: data bytes per median second; import and openssl: archive bytes per median second. */
  exportMiBs: number
  tarMiBs: number
  tarSyncMiBs: number
  importMiBs: number
  opensslMiBs: number
  exportRatio: number
  importRatio: number
  /** The largest over the runs. */
  exportPeakRssMiB: number
  importPeakRssMiB: number
  exportCpu: { user: number; sys: number }
  importCpu: { user: number; sys: number }
}

const medianWall = (costs: Cost[]): number => median(costs.map((cost) => cost.wallSeconds))
const cpuSeconds = (costs: Cost[]) => ({
  user: median(costs.map((cost) => cost.userSeconds)),
  sys: median(costs.map((cost) => cost.sysSeconds)),
})

/** Export vs tar, then import vs openssl over the archive; leaves `archive` in place. */
async function throughputBench(
  work: string,
  store: string,
  files: DataFile[],
  archive: string,
): Promise<ThroughputResult> {
  const dataDir = join(work, 'data')
  const names = files.map((file) => file.name)
  const tarFile = join(work, 'set.tar')
  await settle([...files.map((file) => file.path), ...(await regularFilesBelow(store))])
  let repeated = 0
  const exportRuns: ThroughputResult['exportRuns'] = []
  for (let i = 1; i <= RUNS; i++) {
    const label = `export run ${i}/${RUNS}`
    const ferry = await undisturbed(`${label} ferry`, () => exportRun(store, HEAD, archive), log)
    const tar = await undisturbed(`${label} tar`, () => tarRun(dataDir, names, tarFile, false), log)
    const tarSync = await undisturbed(`${label} tar+sync`, () => tarRun(dataDir, names, tarFile, true), log)
    exportRuns.push({ ferry: ferry.cost, tar: tar.cost, tarSync: tarSync.cost })
    repeated += ferry.repeats + tar.repeats + tarSync.repeats
    log(
      `${label}: ferry ${ferry.cost.wallSeconds.toFixed(2)} s (${rssMiB(ferry.cost).toFixed(0)} MiB RSS), ` +
        `tar ${tar.cost.wallSeconds.toFixed(2)} s, tar+sync ${tarSync.cost.wallSeconds.toFixed(2)} s`,
    )
  }
  const tarBytes = await fileSize(tarFile)
  await rm(tarFile, { force: true })
  const archiveBytes = await fileSize(archive)
  await settle([archive])
  const importRuns: ThroughputResult['importRuns'] = []
  const site = join(work, 'B')
  for (let i = 1; i <= RUNS; i++) {
    const label = `import run ${i}/${RUNS}`
    const ferry = await undisturbed(`${label} ferry`, () => importRun(store, site, archive), log)
    const openssl = await undisturbed(`${label} openssl`, () => opensslRun(archive), log)
    importRuns.push({ ferry: ferry.cost, openssl: openssl.cost })
    repeated += ferry.repeats + openssl.repeats
    log(
      `${label}: ferry ${ferry.cost.wallSeconds.toFixed(2)} s (${rssMiB(ferry.cost).toFixed(0)} MiB RSS), ` +
        `openssl ${openssl.cost.wallSeconds.toFixed(2)} s`,
    )
  }
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  const exportMiBs = bytes / MiB / medianWall(exportRuns.map((run) => run.ferry))
  const tarMiBs = bytes / MiB / medianWall(exportRuns.map((run) => run.tar))
  const importMiBs = archiveBytes / MiB / medianWall(importRuns.map((run) => run.ferry))
  const opensslMiBs = archiveBytes / MiB / medianWall(importRuns.map((run) => run.openssl))
  const all = [
    ...exportRuns.flatMap((run) => [run.ferry, run.tar, run.tarSync]),
    ...importRuns.flatMap((run) => [run.ferry, run.openssl]),
  ]
  return {
    files: files.length,
    bytes,
    archiveBytes,
    tarBytes,
    exportRuns,
    importRuns,
    repeated,
    disturbed: all.filter(isDisturbed).length,
    exportMiBs,
    tarMiBs,
    tarSyncMiBs: bytes / MiB / medianWall(exportRuns.map((run) => run.tarSync)),
    importMiBs,
    opensslMiBs,
    exportRatio: exportMiBs / tarMiBs,
    importRatio: importMiBs / opensslMiBs,
    exportPeakRssMiB: Math.max(...exportRuns.map((run) => rssMiB(run.ferry))),
    importPeakRssMiB: Math.max(...importRuns.map((run) => rssMiB(run.ferry))),
    exportCpu: cpuSeconds(exportRuns.map((run) => run.ferry)),
    importCpu: cpuSeconds(importRuns.map((run) => run.ferry)),
  }
}

// ---------------------------------------------------------------- memory

interface MemoryResult {
  bytes: number
  archiveBytes: number
  export: Cost
  import: Cost
  repeated: number
  exportPeakRssMiB: number
  importPeakRssMiB: number
}

/** One export and one import of a 2 GiB archive (head BIG_HEAD: the 1 GiB set plus 1 GiB more), for peak RSS. */
async function memoryBench(work: string, store: string, files: DataFile[]): Promise<MemoryResult> {
  const more = await writeParts(join(work, 'data'), files.length + 1, BIG_FILES - files.length)
  const all = [...files, ...more]
  log(`memory: building head ${BIG_HEAD} (${mib(all.length * FILE_BYTES)} MiB)`)
  await buildHead(work, store, BIG_HEAD, all)
  const archive = join(work, 'big.car')
  const exported = await undisturbed('memory export', () => exportRun(store, BIG_HEAD, archive), log)
  await settle([archive])
  const site = join(work, 'C')
  const imported = await undisturbed('memory import', () => importRun(store, site, archive), log)
  const archiveBytes = await fileSize(archive)
  await rm(archive, { force: true })
  await Promise.all(more.map((file) => rm(file.path, { force: true })))
  log(
    `memory: export ${exported.cost.wallSeconds.toFixed(2)} s ${rssMiB(exported.cost).toFixed(0)} MiB RSS, ` +
      `import ${imported.cost.wallSeconds.toFixed(2)} s ${rssMiB(imported.cost).toFixed(0)} MiB RSS`,
  )
  return {
    bytes: all.length * FILE_BYTES,
    archiveBytes,
    export: exported.cost,
    import: imported.cost,
    repeated: exported.repeats + imported.repeats,
    exportPeakRssMiB: rssMiB(exported.cost),
    importPeakRssMiB: rssMiB(imported.cost),
  }
}

// ---------------------------------------------------------------- delta

/** A baseline's size, or why it could not be measured. */
type Baseline = { bytes: number; detail: string } | { missing: string }

interface DeltaResult {
  release: Omit<ReleasePair, 'v1' | 'v2'>
  /** `ferry export release --base inventory.json` after v2 was built: file size, blocks written and left out. */
  ferry: { bytes: number; blocks: number; skipped: number }
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

/** ferry's delta: v1 carried to the site, its inventory carried back, v2 exported against it. */
async function ferryDelta(
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
  const result = await ferryJson<ExportResult>([
    'export',
    RELEASE,
    '--base',
    inventory,
    '--out',
    delta,
    '--store',
    sender,
  ])
  await importPublished(site, delta)
  const full = join(dir, 'v2.car')
  await ferryJson(['export', RELEASE, '--out', full, '--store', sender])
  let ferryZstdBytes: number | undefined
  if (zstd !== undefined) {
    await execFileAsync(zstd, ['-q', '-3', '-f', delta, '-o', `${delta}.zst`])
    ferryZstdBytes = await fileSize(`${delta}.zst`)
  }
  return {
    ferry: { bytes: await fileSize(delta), blocks: result.blocks, skipped: result.skipped },
    ferryFullBytes: await fileSize(full),
    ferryZstdBytes,
  }
}

/** `rsync --only-write-batch=BATCH -r v2/ v1/`: the batch file is what would travel (v1/ is only read). */
async function rsyncDelta(dir: string, rsync: string | undefined): Promise<Baseline> {
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

async function deltaBench(work: string, tools: Tools): Promise<DeltaResult> {
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

// ---------------------------------------------------------------- report

function ratioVerdict(ratio: number, goal: number, notDone?: number): string {
  if (ratio >= goal) return 'PASS'
  return notDone !== undefined && ratio < notDone ? 'BELOW (not done)' : 'BELOW'
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'BELOW')

function deltaRow(label: string, ferryBytes: number, baseline: Baseline): string[] {
  if ('missing' in baseline)
    return [label, `${kib(ferryBytes)} KiB`, baseline.missing, '-', '-', 'NOT MEASURED']
  const ratio = ferryBytes / baseline.bytes
  return [
    label,
    `${kib(ferryBytes)} KiB`,
    `${kib(baseline.bytes)} KiB`,
    `${ratio.toFixed(2)}x`,
    `< ${GOALS.deltaRatio}x`,
    verdict(ratio < GOALS.deltaRatio),
  ]
}

function resultTable(throughput: ThroughputResult, memory: MemoryResult, delta: DeltaResult): string {
  const rows = [
    ['MEASURE', 'FERRY', 'BASELINE', 'RATIO', 'GOAL', 'VERDICT'],
    [
      `export ${mib(throughput.bytes)} MiB vs tar -cf`,
      `${throughput.exportMiBs.toFixed(0)} MiB/s`,
      `${throughput.tarMiBs.toFixed(0)} MiB/s`,
      `${throughput.exportRatio.toFixed(2)}x`,
      `>= ${GOALS.exportRatio}x`,
      ratioVerdict(throughput.exportRatio, GOALS.exportRatio, GOALS.exportRatioNotDone),
    ],
    [
      `import ${mib(throughput.archiveBytes)} MiB vs openssl dgst`,
      `${throughput.importMiBs.toFixed(0)} MiB/s`,
      `${throughput.opensslMiBs.toFixed(0)} MiB/s`,
      `${throughput.importRatio.toFixed(2)}x`,
      `>= ${GOALS.importRatio}x`,
      ratioVerdict(throughput.importRatio, GOALS.importRatio),
    ],
    [
      `peak RSS, export ${mib(memory.archiveBytes)} MiB`,
      `${memory.exportPeakRssMiB.toFixed(0)} MiB`,
      '-',
      '-',
      `<= ${GOALS.peakRssMiB} MiB`,
      verdict(memory.exportPeakRssMiB <= GOALS.peakRssMiB),
    ],
    [
      `peak RSS, import ${mib(memory.archiveBytes)} MiB`,
      `${memory.importPeakRssMiB.toFixed(0)} MiB`,
      '-',
      '-',
      `<= ${GOALS.peakRssMiB} MiB`,
      verdict(memory.importPeakRssMiB <= GOALS.peakRssMiB),
    ],
    deltaRow('delta vs rsync batch', delta.ferry.bytes, delta.rsync),
    deltaRow('delta vs casync new chunks + index', delta.ferry.bytes, delta.casync),
  ]
  return table(rows)
}

const cpuText = (cpu: { user: number; sys: number }): string => `${cpu.user.toFixed(2)}+${cpu.sys.toFixed(2)}`
const walls = (costs: Cost[]): string => costs.map((cost) => cost.wallSeconds.toFixed(2)).join(' / ')
const baselineText = (baseline: Baseline): string =>
  'missing' in baseline ? baseline.missing : `${kib(baseline.bytes)} KiB (${baseline.detail})`

function details(throughput: ThroughputResult, memory: MemoryResult, delta: DeltaResult): string[] {
  const { exportRuns, importRuns } = throughput
  const release = delta.release
  return [
    `export: wall s per run ferry ${walls(exportRuns.map((run) => run.ferry))}, tar ${walls(exportRuns.map((run) => run.tar))}, ` +
      `tar+sync ${walls(exportRuns.map((run) => run.tarSync))} (${throughput.tarSyncMiBs.toFixed(0)} MiB/s); ` +
      `ferry CPU s ${cpuText(throughput.exportCpu)}, peak RSS ${throughput.exportPeakRssMiB.toFixed(0)} MiB; ` +
      `archive ${throughput.archiveBytes} B, tar ${throughput.tarBytes} B`,
    `import: wall s per run ferry ${walls(importRuns.map((run) => run.ferry))}, openssl ${walls(importRuns.map((run) => run.openssl))}; ` +
      `ferry CPU s ${cpuText(throughput.importCpu)}, peak RSS ${throughput.importPeakRssMiB.toFixed(0)} MiB`,
    `runs repeated because other processes were busy: ${throughput.repeated + memory.repeated}, kept while still busy: ${throughput.disturbed}`,
    `2 GiB: export ${memory.export.wallSeconds.toFixed(2)} s (${(memory.bytes / MiB / memory.export.wallSeconds).toFixed(0)} MiB/s), ` +
      `import ${memory.import.wallSeconds.toFixed(2)} s (${(memory.archiveBytes / MiB / memory.import.wallSeconds).toFixed(0)} MiB/s)`,
    `delta data: ${release.description}; changed ${kib(release.changedBytes)} KiB ` +
      `(${((100 * release.changedBytes) / release.v1Bytes).toFixed(2)}% of v1; ${release.edits.insertions} insertions, ${release.edits.overwrites} overwrites)`,
    `delta sizes: ferry ${kib(delta.ferry.bytes)} KiB (${delta.ferry.blocks} blocks, ${delta.ferry.skipped} left out as held by the site; ` +
      `full v2 archive ${kib(delta.ferryFullBytes)} KiB` +
      `${delta.ferryZstdBytes === undefined ? '' : `; through zstd -3: ${kib(delta.ferryZstdBytes)} KiB`}), ` +
      `rsync ${baselineText(delta.rsync)}, casync ${baselineText(delta.casync)}`,
  ]
}

/** Runs the archive benchmark and prints the table, details and a `BENCH_JSON` line on stdout. */
export async function archiveBench(): Promise<void> {
  await requireProgram(TIME_BIN, ['--version'], 'GNU time: apt-get install time')
  const tools = await findTools()
  for (const tool of ['rsync', 'casync', 'zstd'] as const) if (tools[tool] === undefined) log(missing(tool))
  const machine = {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    openssl: tools.openssl,
    tar: tools.tar,
  }
  const { throughput, memory, delta } = await withTempDir('ferry-bench-archive-', async (work) => {
    log(`working in ${work}`)
    const files = await writeParts(join(work, 'data'), 1, SET_FILES)
    const store = join(work, 'A')
    await ferryJson(['init', '--store', store])
    await buildHead(work, store, HEAD, files)
    const archive = join(work, 'set.car')
    const throughput = await throughputBench(work, store, files, archive)
    await rm(archive, { force: true })
    const memory = await memoryBench(work, store, files)
    await rm(join(work, 'data'), { recursive: true, force: true })
    await rm(store, { recursive: true, force: true })
    return { throughput, memory, delta: await deltaBench(work, tools) }
  })
  const out = [
    `ferry archive benchmark, ${machine.date}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ${machine.openssl}, ${machine.tar}`,
    `export: \`ferry export ${HEAD} --out set.car\` vs \`tar -cf set.tar FILES\` over ${SET_FILES} pseudo-random files of ${mib(FILE_BYTES)} MiB ` +
      `(page cache warm, output on the same disk, sync before each run); import: \`ferry import set.car\` into a fresh store trusting the sender ` +
      `vs \`openssl dgst -sha256 set.car\`; medians of ${RUNS} alternating runs (wall time incl. node start-up); ` +
      `peak RSS: GNU time %M, one export and one import of a ${mib(memory.bytes)} MiB archive`,
    ...details(throughput, memory, delta),
    '',
    resultTable(throughput, memory, delta),
    `BENCH_JSON ${JSON.stringify({ bench: 'archive', machine, runs: RUNS, goals: GOALS, throughput, memory, delta })}`,
  ]
  process.stdout.write(`${out.join('\n')}\n`)
}
