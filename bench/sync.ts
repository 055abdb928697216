/*
 * Sync benchmark (issue: online sync): `ferry sync` of 1 GiB from daemon A to
 * daemon B against a raw libp2p stream of the same bytes over the same
 * transport, `rsync` to an rsync daemon, and Helia moving the same DAG over
 * bitswap; the bytes an upgrade moves against rsync's; the daemons' peak RSS.
 * Everything on 127.0.0.1, no mDNS; every wait is bounded.
 */
import { mkdir, rm } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { HEAP_GROWING_PERCENT } from '../daemon/runtime/heap-tuning.js'
import type { DataFile } from './data.js'
import { regularFilesBelow, settle } from './data.js'
import { type ExportResult, ferryJson, initTrustingStore, withDaemonLaunchEnv } from './ferry.js'
import { type FerryDaemon, ferrySyncMissing, ferrySyncRun, startFerryDaemon } from './ferry-sync.js'
import { HELIA_CONCURRENCY, HELIA_LIMIT_MS, heliaRun, startHeliaServer } from './helia-bitswap.js'
import { rawLibp2pRun } from './libp2p-raw.js'
import { ATTEMPTS, requireProgram, TIME_BIN } from './measure.js'
import { type Phase, phaseDisturbed } from './proc.js'
import { writeReleasePair } from './release.js'
import { rsyncPush, startRsyncDaemon } from './rsync-daemon.js'
import { buildRelease, flush, log, resetPageCache, writeDataSet } from './sync-data.js'
import { type FerryFigures, type FerryRun, report, type SyncResults } from './sync-report.js'
import { ferryUpgrade, rsyncUpgrade } from './sync-upgrade.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
/** Measured runs per tool, alternating raw (node's defaults, then ferry's runtime settings), rsync, ferry; medians are reported. */
const RUNS = 5
/** Helia runs, each into a fresh H2 (H1 loads the DAG once). */
const HELIA_RUNS = 3
/** The run with one block in flight (like Helia's pins.add) is stopped after this long: its rate so far stands. */
const SERIAL_LIMIT_MS = 60_000
/** The data set: this many pseudo-random files of FILE_BYTES (1 GiB in all). */
const SET_FILES = 4
const FILE_BYTES = 256 * MiB
const HEAD = 'bench'
const RELEASE = 'release'

/** The raw peers again with the runtime settings of ferry's daemons. */
const RAW_AS_FERRY = {
  nodeArgs: [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`],
  env: withDaemonLaunchEnv(process.env),
}

/** The raw peers on node's defaults, the receiver hashing every piece with sha256 on its main thread. */
const RAW_HASHING = { nodeArgs: [], hashing: true }

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/**
 * Measures until a run is undisturbed by other processes or ATTEMPTS runs
 * were made; before each, the page cache is reset and `sources` (what the
 * run reads) read back in. Returns the last run and how many were repeated.
 */
async function stable<T extends { phase: Phase<unknown> }>(
  label: string,
  sources: string[],
  measure: () => Promise<T>,
): Promise<T & { repeats: number }> {
  for (let attempt = 1; ; attempt++) {
    if (!(await resetPageCache(sources))) log('could not drop the page cache (not root?): runs share it')
    const run = await measure()
    const { wallSeconds, otherCpuSeconds } = run.phase
    const others = otherCpuSeconds > 0 ? ` (others ${otherCpuSeconds} CPU s)` : ''
    log(`${label}: ${wallSeconds.toFixed(2)} s${others}`)
    if (!phaseDisturbed(run.phase) || attempt === ATTEMPTS) return { ...run, repeats: attempt - 1 }
    log(`${label}: other processes were busy meanwhile; measuring again`)
  }
}

/** One ferry run: a fresh store B trusting A, its daemon, then timed `ferry sync A bench --store B`. */
async function ferryRun(work: string, storeA: string, daemonA: FerryDaemon, i: number): Promise<FerryRun> {
  const storeB = join(work, `B-${i}`)
  await rm(storeB, { recursive: true, force: true })
  await initTrustingStore(storeB, storeA)
  const daemonB = await startFerryDaemon(`ferry daemon B-${i}`, storeB)
  try {
    const run = await ferrySyncRun(daemonA.addr, HEAD, storeB, [daemonA.pid, daemonB.pid])
    return { ...run, daemonBRssKiB: await daemonB.peakRssKiB() }
  } finally {
    await daemonB.stop()
    await rm(storeB, { recursive: true, force: true })
  }
}

type Throughput = Pick<SyncResults, 'raw' | 'rawTuned' | 'rawHashing' | 'rsync' | 'ferry' | 'repeated'>

/** RUNS alternating runs of the raw stream, rsync and (when it is there) ferry, 1 GiB each. */
async function throughputRuns(
  work: string,
  storeA: string,
  files: DataFile[],
  ferryMissing: string | undefined,
): Promise<Throughput> {
  const result: Throughput = {
    raw: [],
    rawTuned: [],
    rawHashing: [],
    rsync: [],
    ferry: { missing: ferryMissing, runs: [] },
    repeated: 0,
  }
  const ferry: FerryFigures = result.ferry
  const rsyncFull = join(work, 'rsync', 'full')
  const rsyncd = await startRsyncDaemon(join(work, 'rsyncd'), { full: rsyncFull })
  let daemonA: FerryDaemon | undefined
  try {
    if (ferryMissing === undefined) {
      daemonA = await startFerryDaemon('ferry daemon A', storeA).catch((err: unknown) => {
        ferry.error = message(err)
        log(`ferry daemon: ${ferry.error}`)
        return undefined
      })
    }
    const packsA = await regularFilesBelow(storeA)
    for (let i = 1; i <= RUNS; i++) {
      const label = `run ${i}/${RUNS}`
      const out = join(work, 'raw.out')
      const paths = files.map((file) => file.path)
      const raw = await stable(`${label} raw libp2p`, paths, () => rawLibp2pRun(paths, out))
      await rm(out, { force: true })
      // The same again with the runtime settings ferry's daemons run with: the heap growth they set
      // themselves (daemon/heap-tuning.ts) and the systemd unit's environment (daemon/launch-env.ts).
      const rawTuned = await stable(`${label} raw libp2p, ferry's runtime settings`, paths, () =>
        rawLibp2pRun(paths, out, RAW_AS_FERRY),
      )
      await rm(out, { force: true })
      // And on node's defaults with a receiver that hashes every byte, as any verifying receiver must.
      const rawHashing = await stable(`${label} raw libp2p, receiver hashing`, paths, () =>
        rawLibp2pRun(paths, out, RAW_HASHING),
      )
      await rm(out, { force: true })
      const rsync = await stable(`${label} rsync`, paths, async () => {
        await rm(rsyncFull, { recursive: true, force: true })
        await mkdir(rsyncFull, { recursive: true })
        await flush()
        return rsyncPush(rsyncd, join(work, 'data'), rsyncd.url('full'))
      })
      result.raw.push(raw)
      result.rawTuned.push(rawTuned)
      result.rawHashing.push(rawHashing)
      result.rsync.push(rsync)
      result.repeated += raw.repeats + rawTuned.repeats + rawHashing.repeats + rsync.repeats
      const a = daemonA
      if (a === undefined || ferry.error !== undefined) continue
      try {
        const run = await stable(`${label} ferry sync`, packsA, () => ferryRun(work, storeA, a, i))
        ferry.runs.push(run)
        result.repeated += run.repeats
      } catch (err) {
        ferry.error = message(err)
        log(`ferry sync failed: ${ferry.error}`)
      }
    }
    if (daemonA !== undefined) ferry.daemonARssKiB = await daemonA.peakRssKiB()
  } finally {
    await rsyncd.stop()
    await daemonA?.stop()
    await rm(rsyncFull, { recursive: true, force: true })
  }
  return result
}

/** HELIA_RUNS fetches of the DAG below `root` from one H1, and one informational fetch one block at a time. */
async function heliaRuns(
  car: string,
  root: string,
): Promise<{ helia: SyncResults['helia']; repeated: number }> {
  log('helia: loading the DAG into H1')
  const server = await startHeliaServer(car)
  const helia: SyncResults['helia'] = { runs: [], loaded: server.loaded, serverRssKiB: 0 }
  let repeated = 0
  try {
    for (let i = 1; i <= HELIA_RUNS; i++) {
      const run = await stable(`helia run ${i}/${HELIA_RUNS}`, [], () =>
        heliaRun(server, root, HELIA_CONCURRENCY),
      )
      helia.runs.push(run)
      repeated += run.repeats
    }
    await flush()
    helia.serial = await heliaRun(server, root, 1, SERIAL_LIMIT_MS)
    const { blocks, complete } = helia.serial.phase.result
    log(
      `helia, one block at a time (like pins.add): ${blocks} blocks${complete ? '' : ` in ${SERIAL_LIMIT_MS / 1000} s`}`,
    )
    helia.serverRssKiB = await server.peakRssKiB()
  } finally {
    await server.stop()
  }
  return { helia, repeated }
}

/** Runs the sync benchmark and prints the table, details and a `BENCH_JSON` line on stdout. */
export async function syncBench(): Promise<void> {
  await requireProgram(TIME_BIN, ['--version'], 'GNU time: apt-get install time')
  const rsyncVersion = await requireProgram('rsync', ['--version'], 'apt-get install -y rsync')
  const ferryMissing = await ferrySyncMissing()
  if (ferryMissing !== undefined)
    log(`ferry sync: not available yet (${ferryMissing}); measuring the baselines`)
  const machine = {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    rsync: rsyncVersion.split('\n')[0],
  }
  const results = await withTempDir('ferry-bench-sync-', async (work): Promise<SyncResults> => {
    log(`working in ${work}`)
    const files = await writeDataSet(join(work, 'data'), SET_FILES, FILE_BYTES)
    const storeA = join(work, 'A')
    await ferryJson(['init', '--store', storeA])
    log(`building head ${HEAD} (${SET_FILES} x ${FILE_BYTES / MiB} MiB) and ${RELEASE} v1 into A`)
    await buildRelease(storeA, work, HEAD, '1', files)
    const { v1, v2, ...release } = await writeReleasePair(join(work, 'v1'), join(work, 'v2'), 'sync/release')
    await buildRelease(storeA, work, RELEASE, '1', v1)
    const car = join(work, 'bench.car')
    const exported = await ferryJson<ExportResult>(['export', HEAD, '--out', car, '--store', storeA])
    await settle([...files.map((file) => file.path), ...(await regularFilesBelow(storeA)), car])

    const throughput = await throughputRuns(work, storeA, files, ferryMissing)
    const { helia, repeated } = await heliaRuns(car, exported.envelope)
    await rm(car, { force: true })

    log('upgrade: rsync')
    const upgrade = { release, ...(await rsyncUpgrade(work, join(work, 'v1'), join(work, 'v2'))) }
    const { ferry } = throughput
    if (ferry.missing === undefined && ferry.error === undefined) {
      log('upgrade: ferry')
      try {
        Object.assign(upgrade, await ferryUpgrade(work, storeA, RELEASE, v2))
      } catch (err) {
        ferry.upgradeError = message(err)
        log(`ferry upgrade failed: ${ferry.upgradeError}`)
      }
    }
    const bytes = files.reduce((sum, file) => sum + file.size, 0)
    return {
      ...throughput,
      bytes,
      archiveBytes: exported.bytes,
      helia,
      upgrade,
      repeated: throughput.repeated + repeated,
    }
  })
  const settings = {
    runs: RUNS,
    heliaRuns: HELIA_RUNS,
    heliaConcurrency: HELIA_CONCURRENCY,
    heliaLimitMs: HELIA_LIMIT_MS,
    serialLimitMs: SERIAL_LIMIT_MS,
  }
  process.stdout.write(`${report(results, machine, settings)}\n`)
}
