/* Export vs `tar -cf`, import vs `openssl dgst -sha256`: medians of alternating runs over the 1 GiB set. */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileSize, HEAD, log, MiB, RUNS, rssMiB } from './archive-common.js'
import { exportRun, importRun, opensslRun, tarRun } from './archive-runs.js'
import { type DataFile, regularFilesBelow, settle } from './data.js'
import { type Cost, isDisturbed, median, undisturbed } from './measure.js'

/** Median user and system CPU seconds of a tool's runs. */
export interface CpuSeconds {
  user: number
  sys: number
}

export interface ThroughputResult {
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
  exportCpu: CpuSeconds
  importCpu: CpuSeconds
}

const medianWall = (costs: Cost[]): number => median(costs.map((cost) => cost.wallSeconds))
const cpuSeconds = (costs: Cost[]): CpuSeconds => ({
  user: median(costs.map((cost) => cost.userSeconds)),
  sys: median(costs.map((cost) => cost.sysSeconds)),
})

/** Export vs tar, then import vs openssl over the archive; leaves `archive` in place. */
export async function throughputBench(
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
