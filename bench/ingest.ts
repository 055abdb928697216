/*
 * Ingest benchmark (issue 2): `ferry bom build` against `openssl dgst
 * -sha256` over the same bytes, both run as a user runs them, plus the dedup
 * figure of a second version with small insertions.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { table } from '../cli/output.js'
import { chunk, MAX_CHUNK } from '../store/index.js'
import {
  copyRealFiles,
  type DataFile,
  evenOffsets,
  settle,
  writeEditedPair,
  writePseudoRandomFile,
} from './data.js'
import {
  type BomBuildResult,
  ferryJson,
  type ListedEntry,
  measuredBomBuild,
  writeRequirements,
} from './ferry.js'
import {
  type Cost,
  isDisturbed,
  measuredBatches,
  median,
  requireProgram,
  TIME_BIN,
  undisturbed,
} from './measure.js'
import { withTempDir } from './temp.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** Measured runs per data set and tool, alternating ferry and openssl; medians are reported. */
const RUNS = 3
const TREE_ROOTS = ['/usr/lib', '/usr/share', '/usr/bin']
const TREE_MAX_FILE = 128 * MiB
const SMALL_FILE = 64 * KiB
const LARGE_FILE = 8 * MiB
const DEDUP_BYTES = 256 * MiB
const DEDUP_EDITS = 10
const DEDUP_INSERT = 100
const MODULE = 'bench'

/** The targets the figures are judged against. */
const GOALS = {
  /** ferry MiB/s ÷ openssl MiB/s: at least this… */
  ratio: 0.7,
  /** …and below this the work is not done. */
  ratioNotDone: 0.5,
  /** ferry's peak RSS for 1 GiB. */
  peakRssMiB: 200,
  /** New leaf bytes of the edited version: one largest chunk per edit (the index comes on top). */
  dedupLeafBytes: DEDUP_EDITS * MAX_CHUNK,
}

interface DataSet {
  label: string
  description: string
  /** The folder holding the files; their names are relative to it. */
  dir: string
  files: DataFile[]
  bytes: number
}

interface SetResult {
  label: string
  description: string
  files: number
  bytes: number
  runs: Array<{ ferry: Cost; openssl: Cost }>
  /** Runs measured again because other processes were busy, and kept runs that still were. */
  repeated: number
  disturbed: number
  ferryMiBs: number
  opensslMiBs: number
  ratio: number
  /** The largest over the runs. */
  ferryPeakRssMiB: number
  ferryCpu: { user: number; sys: number }
  opensslCpu: { user: number; sys: number }
  /** Entries whose sha256 (`ferry ls`) equals openssl's digest of the file. */
  sha256Matches: number
}

interface DedupResult {
  bytes: number
  edits: number
  insertBytes: number
  v1: BomBuildResult
  v2: BomBuildResult
  /** Index bytes and blocks (file node, BOM node, head) of v1: its new bytes and blocks minus its chunks. */
  indexBytes: number
  indexBlocks: number
  /** v2's new blocks that are chunks, by ferry's count: new blocks minus the index blocks. */
  newChunks: number
  /** What the chunker predicts: chunks of v2 that v1 lacks, and their bytes. */
  expectedNewChunks: number
  expectedNewChunkBytes: number
  goalBytes: number
}

function log(message: string): void {
  process.stderr.write(`bench ingest: ${message}\n`)
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1)

async function randomSet(work: string): Promise<DataSet> {
  const dir = join(work, 'random')
  await mkdir(dir)
  const file: DataFile = { name: 'random.bin', path: join(dir, 'random.bin'), size: GiB }
  await writePseudoRandomFile(file.path, file.size, 'ingest/random')
  return {
    label: 'random 1 GiB',
    description: '1 file of 1024 MiB pseudo-random bytes (AES-256-CTR keystream, fixed seed)',
    dir,
    files: [file],
    bytes: file.size,
  }
}

function describeSizes(files: DataFile[]): string {
  const classes = [
    { label: `small (<${SMALL_FILE / KiB} KiB)`, test: (size: number) => size < SMALL_FILE },
    { label: 'medium', test: (size: number) => size >= SMALL_FILE && size < LARGE_FILE },
    { label: `large (>=${LARGE_FILE / MiB} MiB)`, test: (size: number) => size >= LARGE_FILE },
  ]
  return classes
    .map(({ label, test }) => {
      const members = files.filter((file) => test(file.size))
      const bytes = members.reduce((sum, file) => sum + file.size, 0)
      return `${members.length} ${label} ${mib(bytes)} MiB`
    })
    .join(', ')
}

async function treeSet(work: string): Promise<DataSet> {
  const dir = join(work, 'tree')
  const files = await copyRealFiles(TREE_ROOTS, dir, GiB, TREE_MAX_FILE)
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  const largest = Math.max(...files.map((file) => file.size))
  return {
    label: 'real-file tree',
    description:
      `${files.length} real files, ${mib(bytes)} MiB, copied from ${TREE_ROOTS.join(', ')} ` +
      `(regular files <= ${TREE_MAX_FILE / MiB} MiB, fixed pseudo-random order by path hash): ` +
      `${describeSizes(files)}; largest ${mib(largest)} MiB`,
    dir,
    files,
    bytes,
  }
}

/** How many entries carry the sha256 that openssl printed for the same file. */
function matchingDigests(entries: ListedEntry[], opensslOutput: string): number {
  const digests = new Map<string, string>()
  for (const line of opensslOutput.split('\n')) {
    const match = /^[\w-]+\((.*)\)= ([0-9a-f]{64})$/.exec(line)
    if (match !== null) digests.set(match[1], match[2])
  }
  return entries.filter((entry) => digests.get(entry.name) === entry.sha256).length
}

/** One ferry run: a fresh store, `ferry init` (not timed), then the timed `ferry bom build`. */
async function ferryRun(
  store: string,
  requirements: string,
  list: boolean,
): Promise<{ cost: Cost; entries: ListedEntry[] }> {
  await ferryJson(['init', '--store', store])
  const { cost } = await measuredBomBuild(store, requirements, MODULE, '1')
  const entries = list ? await ferryJson<ListedEntry[]>(['ls', MODULE, '--store', store]) : []
  await rm(store, { recursive: true, force: true })
  return { cost, entries }
}

/** One openssl run over the data set's files (from its folder, so the names are short). */
async function opensslRun(set: DataSet): Promise<{ cost: Cost; stdout: string }> {
  const names = set.files.map((file) => file.name)
  const { stdout, ...cost } = await measuredBatches('openssl', ['dgst', '-sha256'], names, { cwd: set.dir })
  return { cost, stdout }
}

const cpuSeconds = (costs: Cost[]) => ({
  user: median(costs.map((cost) => cost.userSeconds)),
  sys: median(costs.map((cost) => cost.sysSeconds)),
})

async function measureSet(set: DataSet, work: string): Promise<SetResult> {
  const requirements = join(set.dir, 'requirements.yaml')
  await writeRequirements(
    requirements,
    MODULE,
    '1',
    set.files.map((file) => ({ name: file.name, path: file.name })),
  )
  log(`${set.label}: ${set.description}`)
  await settle(set.files.map((file) => file.path))
  const runs: SetResult['runs'] = []
  let repeated = 0
  let sha256Matches = 0
  for (let i = 1; i <= RUNS; i++) {
    const label = `${set.label} run ${i}/${RUNS}`
    const ferry = await undisturbed(
      `${label} ferry`,
      () => ferryRun(join(work, 'store'), requirements, i === 1),
      log,
    )
    const openssl = await undisturbed(`${label} openssl`, () => opensslRun(set), log)
    if (i === 1) sha256Matches = matchingDigests(ferry.entries, openssl.stdout)
    runs.push({ ferry: ferry.cost, openssl: openssl.cost })
    repeated += ferry.repeats + openssl.repeats
    log(
      `${label}: ferry ${ferry.cost.wallSeconds.toFixed(2)} s ` +
        `(${(ferry.cost.peakRssKiB / KiB).toFixed(0)} MiB RSS), openssl ${openssl.cost.wallSeconds.toFixed(2)} s`,
    )
  }
  const ferryMiBs = set.bytes / MiB / median(runs.map((run) => run.ferry.wallSeconds))
  const opensslMiBs = set.bytes / MiB / median(runs.map((run) => run.openssl.wallSeconds))
  return {
    label: set.label,
    description: set.description,
    files: set.files.length,
    bytes: set.bytes,
    runs,
    repeated,
    disturbed: runs.flatMap((run) => [run.ferry, run.openssl]).filter(isDisturbed).length,
    ferryMiBs,
    opensslMiBs,
    ratio: ferryMiBs / opensslMiBs,
    ferryPeakRssMiB: Math.max(...runs.map((run) => run.ferry.peakRssKiB)) / KiB,
    ferryCpu: cpuSeconds(runs.map((run) => run.ferry)),
    opensslCpu: cpuSeconds(runs.map((run) => run.openssl)),
    sha256Matches,
  }
}

/** Distinct chunks of a file as ferry's chunker cuts it: sha256 hex → size. */
export async function chunkDigests(path: string): Promise<Map<string, number>> {
  const chunks = new Map<string, number>()
  for await (const bytes of chunk(createReadStream(path, { highWaterMark: 4 * MiB }))) {
    chunks.set(createHash('sha256').update(bytes).digest('hex'), bytes.byteLength)
  }
  return chunks
}

/** A version and its copy with scattered insertions, built into one store as two versions of head `dedup`. */
async function dedupBench(work: string): Promise<DedupResult> {
  const dir = join(work, 'dedup')
  const versions = ['1', '2'].map((version) => ({
    version,
    file: join(dir, `v${version}`, 'data.bin'),
    requirements: join(dir, `v${version}`, 'requirements.yaml'),
  }))
  for (const { version, requirements } of versions) {
    await mkdir(join(dir, `v${version}`), { recursive: true })
    await writeRequirements(requirements, 'dedup', version, [{ name: 'data.bin', path: 'data.bin' }])
  }
  const offsets = evenOffsets(DEDUP_BYTES, DEDUP_EDITS)
  await writeEditedPair(
    versions[0].file,
    versions[1].file,
    DEDUP_BYTES,
    offsets,
    DEDUP_INSERT,
    'ingest/dedup',
  )
  const store = join(dir, 'store')
  await ferryJson(['init', '--store', store])
  const [v1, v2] = [
    (await measuredBomBuild(store, versions[0].requirements, 'dedup', '1')).result,
    (await measuredBomBuild(store, versions[1].requirements, 'dedup', '2')).result,
  ]
  const before = await chunkDigests(versions[0].file)
  const after = await chunkDigests(versions[1].file)
  const fresh = [...after].filter(([digest]) => !before.has(digest))
  const indexBytes = v1.newBytes - [...before.values()].reduce((sum, size) => sum + size, 0)
  const indexBlocks = v1.newBlocks - before.size
  return {
    bytes: DEDUP_BYTES,
    edits: DEDUP_EDITS,
    insertBytes: DEDUP_INSERT,
    v1,
    v2,
    indexBytes,
    indexBlocks,
    newChunks: v2.newBlocks - indexBlocks,
    expectedNewChunks: fresh.length,
    expectedNewChunkBytes: fresh.reduce((sum, [, size]) => sum + size, 0),
    goalBytes: GOALS.dedupLeafBytes + indexBytes,
  }
}

function ratioVerdict(ratio: number): string {
  if (ratio >= GOALS.ratio) return 'PASS'
  return ratio >= GOALS.ratioNotDone ? 'BELOW' : 'BELOW (not done)'
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'BELOW')
const cpuText = (cpu: { user: number; sys: number }): string => `${cpu.user.toFixed(2)}+${cpu.sys.toFixed(2)}`

function setsTable(sets: SetResult[]): string {
  const rows = [
    [
      'DATA SET',
      'FERRY MiB/s',
      'OPENSSL MiB/s',
      'RATIO',
      `GOAL >=${GOALS.ratio}x`,
      'FERRY PEAK RSS MiB',
      `GOAL <=${GOALS.peakRssMiB}`,
      'FERRY CPU s (user+sys)',
      'OPENSSL CPU s',
    ],
  ]
  for (const set of sets) {
    rows.push([
      set.label,
      set.ferryMiBs.toFixed(0),
      set.opensslMiBs.toFixed(0),
      `${set.ratio.toFixed(2)}x`,
      ratioVerdict(set.ratio),
      set.ferryPeakRssMiB.toFixed(0),
      verdict(set.ferryPeakRssMiB <= GOALS.peakRssMiB),
      cpuText(set.ferryCpu),
      cpuText(set.opensslCpu),
    ])
  }
  return table(rows)
}

function dedupLine(dedup: DedupResult): string {
  return (
    `dedup: ${mib(dedup.bytes)} MiB pseudo-random v1, v2 = v1 + ${dedup.edits} insertions of ${dedup.insertBytes} B: ` +
    `v2 new ${(dedup.v2.newBytes / KiB).toFixed(1)} KiB in ${dedup.v2.newBlocks} blocks ` +
    `(${dedup.newChunks} new chunks; chunker predicts ${dedup.expectedNewChunks} chunks, ` +
    `${(dedup.expectedNewChunkBytes / KiB).toFixed(1)} KiB); ` +
    `goal <= ${dedup.edits} x ${MAX_CHUNK / KiB} KiB + index ${(dedup.indexBytes / KiB).toFixed(1)} KiB ` +
    `= ${(dedup.goalBytes / KiB).toFixed(1)} KiB: ${verdict(dedup.v2.newBytes <= dedup.goalBytes)}`
  )
}

/** Runs the ingest benchmark and prints the table, the dedup line and a `BENCH_JSON` line on stdout. */
export async function ingestBench(): Promise<void> {
  const openssl = await requireProgram('openssl', ['version'], 'apt-get install openssl')
  await requireProgram(TIME_BIN, ['--version'], 'GNU time: apt-get install time')
  const machine = {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    openssl,
  }
  const { sets, dedup } = await withTempDir('ferry-bench-ingest-', async (work) => {
    log(`working in ${work}`)
    const sets: SetResult[] = []
    for (const make of [randomSet, treeSet]) sets.push(await measureSet(await make(work), work))
    log('dedup: building v1 and v2')
    return { sets, dedup: await dedupBench(work) }
  })
  const out = [
    `ferry ingest benchmark, ${machine.date}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ${machine.openssl}`,
    `ferry: \`ferry bom build\` into a fresh store (wall time incl. node start-up); openssl: \`openssl dgst -sha256 FILES...\` (argument lists split like xargs, run one after the other)`,
    `medians of ${RUNS} alternating runs after sync and a warm-up read; peak RSS: largest of the runs (GNU time %M)`,
    ...sets.map(
      (set) =>
        `${set.label}: ${set.description}; sha256 of ${set.sha256Matches}/${set.files} entries equal openssl's; ` +
        `runs repeated because other processes were busy: ${set.repeated}, kept while still busy: ${set.disturbed}`,
    ),
    '',
    setsTable(sets),
    '',
    dedupLine(dedup),
    `BENCH_JSON ${JSON.stringify({ bench: 'ingest', machine, runs: RUNS, goals: GOALS, sets, dedup })}`,
  ]
  process.stdout.write(`${out.join('\n')}\n`)
}
