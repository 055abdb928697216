/* The archive benchmark's table and detail lines. */
import { table } from '../cli/output.js'
import { GOALS, kib, MiB, mib } from './archive-common.js'
import type { Baseline, DeltaResult } from './archive-delta.js'
import type { MemoryResult } from './archive-memory.js'
import type { CpuSeconds, ThroughputResult } from './archive-throughput.js'
import type { Cost } from './measure.js'

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

function rssRow(what: string, archiveBytes: number, peakRssMiB: number): string[] {
  return [
    `peak RSS, ${what} ${mib(archiveBytes)} MiB`,
    `${peakRssMiB.toFixed(0)} MiB`,
    '-',
    '-',
    `<= ${GOALS.peakRssMiB} MiB`,
    verdict(peakRssMiB <= GOALS.peakRssMiB),
  ]
}

export function resultTable(throughput: ThroughputResult, memory: MemoryResult, delta: DeltaResult): string {
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
    rssRow('export', memory.archiveBytes, memory.exportPeakRssMiB),
    rssRow('import', memory.archiveBytes, memory.importPeakRssMiB),
    deltaRow('delta vs rsync batch', delta.ferry.bytes, delta.rsync),
    deltaRow('delta vs casync new chunks + index', delta.ferry.bytes, delta.casync),
  ]
  return table(rows)
}

const cpuText = (cpu: CpuSeconds): string => `${cpu.user.toFixed(2)}+${cpu.sys.toFixed(2)}`
const walls = (costs: Cost[]): string => costs.map((cost) => cost.wallSeconds.toFixed(2)).join(' / ')
const baselineText = (baseline: Baseline): string =>
  'missing' in baseline ? baseline.missing : `${kib(baseline.bytes)} KiB (${baseline.detail})`

export function details(throughput: ThroughputResult, memory: MemoryResult, delta: DeltaResult): string[] {
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
