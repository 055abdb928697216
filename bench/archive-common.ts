/* The archive benchmark's settings, goals, units, log and the programs it runs. */
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { type Cost, findProgram, requireProgram } from './measure.js'

export const execFileAsync = promisify(execFile)

export const KiB = 1024
export const MiB = 1024 * KiB

/** Measured runs per tool, alternating; medians are reported. */
export const RUNS = 3
/** The throughput data set: this many pseudo-random files of FILE_BYTES (1 GiB in all). */
export const SET_FILES = 4
export const FILE_BYTES = 256 * MiB
/** The memory data set: twice as many files (2 GiB). */
export const BIG_FILES = 8
export const HEAD = 'bench'
export const BIG_HEAD = 'big'
export const RELEASE = 'release'

/** The targets the figures are judged against. */
export const GOALS = {
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

export function log(message: string): void {
  process.stderr.write(`bench archive: ${message}\n`)
}

export const mib = (bytes: number): string => (bytes / MiB).toFixed(1)
export const kib = (bytes: number): string => (bytes / KiB).toFixed(1)
export const rssMiB = (cost: Cost): number => cost.peakRssKiB / KiB

/** Writes all dirty pages out, so that no write-back of an earlier step competes with a measured run. */
export async function flush(): Promise<void> {
  await execFileAsync('sync')
}

/** The programs the benchmark runs; the optional ones are undefined when not installed. */
export interface Tools {
  openssl: string
  tar: string
  rsync?: string
  casync?: string
  zstd?: string
}

export async function findTools(): Promise<Tools> {
  return {
    openssl: await requireProgram('openssl', ['version'], 'apt-get install openssl'),
    tar: (await requireProgram('tar', ['--version'], 'apt-get install tar')).split('\n')[0],
    rsync: await findProgram('rsync'),
    casync: await findProgram('casync'),
    zstd: await findProgram('zstd'),
  }
}

export const missing = (tool: string): string =>
  `${tool} is not installed (apt-get install -y ${tool}): not measured`

export const fileSize = async (path: string): Promise<number> => (await stat(path)).size
