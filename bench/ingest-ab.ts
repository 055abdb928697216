/*
 * A/B of two ferry builds on the same `bom build`, in interleaved pairs, so
 * that a change is judged against the build before it in the same minutes
 * (this VM's speed drifts by the hour). Usage:
 *   npm run bench -- ingest-ab OLD/dist/cli/main.js NEW/dist/cli/main.js [PAIRS]
 * (build the old commit in a `git worktree` first). Per run: a fresh store
 * (`ferry init` of that build), the data set settled in the page cache, then
 * `ferry bom build` of 1 GiB in four files under GNU time; reported: wall
 * seconds, CPU seconds and peak RSS, each run and the medians.
 */
import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { settle } from './data.js'
import { FERRY_ENV, ferryJson, writeRequirements } from './ferry.js'
import { measured, median } from './measure.js'
import { writeDataSet } from './sync-data.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
const execFileAsync = promisify(execFile)

interface IngestRun {
  seconds: number
  cpu: number
  rssMiB: number
}

async function buildOnce(
  work: string,
  requirements: string,
  bin: string,
  version: string,
): Promise<IngestRun> {
  const store = join(work, 'store')
  await rm(store, { recursive: true, force: true })
  await ferryJson(['init', '--store', store], bin)
  // The last run's 1 GiB of dirty pages would be written back during this one.
  await execFileAsync('sync')
  try {
    const args = ['bom', 'build', requirements, '--name', 'bench', '--version', version, '--store', store]
    const run = await measured(process.execPath, [bin, ...args, '--json'], { env: FERRY_ENV })
    return { seconds: run.wallSeconds, cpu: run.userSeconds + run.sysSeconds, rssMiB: run.peakRssKiB / 1024 }
  } finally {
    await rm(store, { recursive: true, force: true })
  }
}

function summary(runs: IngestRun[]): string {
  const m = (pick: (run: IngestRun) => number) => median(runs.map(pick))
  const mib = (4 * 256 * MiB) / MiB
  return `median ${m((r) => r.seconds).toFixed(2)} s (${(mib / m((r) => r.seconds)).toFixed(0)} MiB/s), CPU ${m((r) => r.cpu).toFixed(2)} s, peak RSS ${m((r) => r.rssMiB).toFixed(0)} MiB (${runs.length} runs)`
}

/** Interleaved pairs of `bom build` runs of two builds; prints each run and the medians. */
export async function ingestAbBench(): Promise<void> {
  const [oldBin, newBin, pairsArg] = process.argv.slice(3)
  if (oldBin === undefined || newBin === undefined)
    throw new Error('usage: npm run bench -- ingest-ab OLD/dist/cli/main.js NEW/dist/cli/main.js [PAIRS]')
  const pairs = Number(pairsArg ?? 4)
  await withTempDir('ferry-bench-ingest-ab-', async (work) => {
    const files = await writeDataSet(join(work, 'data'), 4, 256 * MiB)
    const requirements = join(work, 'data', 'requirements.yaml')
    await writeRequirements(
      requirements,
      'bench',
      '1',
      files.map((f) => ({ name: f.name, path: `./${f.name}` })),
    )
    await settle(files.map((f) => f.path))
    const runs: Record<'old' | 'new', IngestRun[]> = { old: [], new: [] }
    for (let i = 1; i <= pairs; i++) {
      for (const [label, bin] of [
        ['old', oldBin],
        ['new', newBin],
      ] as const) {
        const run = await buildOnce(work, requirements, bin, String(i))
        runs[label].push(run)
        process.stderr.write(
          `bench ingest-ab: pair ${i}/${pairs} ${label}: ${run.seconds.toFixed(2)} s, CPU ${run.cpu.toFixed(2)} s, peak RSS ${run.rssMiB.toFixed(0)} MiB\n`,
        )
      }
    }
    for (const label of ['old', 'new'] as const) process.stdout.write(`${label}: ${summary(runs[label])}\n`)
  })
}
