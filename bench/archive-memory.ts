/* Peak RSS of one export and one import of a 2 GiB archive. */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BIG_FILES, BIG_HEAD, FILE_BYTES, fileSize, log, mib, rssMiB } from './archive-common.js'
import { buildHead, writeParts } from './archive-data.js'
import { exportRun, importRun } from './archive-runs.js'
import { type DataFile, settle } from './data.js'
import { type Cost, undisturbed } from './measure.js'

export interface MemoryResult {
  bytes: number
  archiveBytes: number
  export: Cost
  import: Cost
  repeated: number
  exportPeakRssMiB: number
  importPeakRssMiB: number
}

/** One export and one import of a 2 GiB archive (head BIG_HEAD: the 1 GiB set plus 1 GiB more), for peak RSS. */
export async function memoryBench(work: string, store: string, files: DataFile[]): Promise<MemoryResult> {
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
