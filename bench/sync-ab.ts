/*
 * A/B of two ferry builds on the same sync, in interleaved pairs, so that a
 * change is judged against the build before it in the same minutes (this
 * VM's speed drifts by the hour). Usage:
 *   npm run bench -- sync-ab OLD/dist/cli/main.js NEW/dist/cli/main.js [PAIRS]
 * (build the old commit in a `git worktree` first). A build written
 * `BIN,bare` has its daemons started without the systemd unit's launch
 * environment (daemon/launch-env.ts), so `sync-ab BIN,bare BIN` measures
 * that environment. Per run: a daemon pair of that build on 127.0.0.1 (store
 * A made once by that build, as builds may differ in store format), a fresh
 * store B, the page cache reset with A's files read back in, then
 * `ferry sync A bench --store B --json`; reported:
 * the sync's own seconds (dial to complete), each daemon's CPU and peak RSS.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { regularFilesBelow } from './data.js'
import { ferryJson, initTrustingStore } from './ferry.js'
import { ferrySyncRun, startFerryDaemon } from './ferry-sync.js'
import { median } from './measure.js'
import { processCpuSeconds } from './proc.js'
import { buildRelease, log, resetPageCache, writeDataSet } from './sync-data.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
const HEAD = 'bench'

interface AbRun {
  seconds: number
  cpuA: number
  cpuB: number
  /** Daemon A's peak RSS, MiB. */
  rssA: number
  /** Daemon B's peak RSS, MiB. */
  rssB: number
}

/** A side of the comparison: `BIN` (daemons in the systemd unit's environment) or `BIN,bare` (without it). */
interface Side {
  bin: string
  bare: boolean
}

function side(arg: string): Side {
  const bare = arg.endsWith(',bare')
  return { bin: bare ? arg.slice(0, -',bare'.length) : arg, bare }
}

async function runOnce(work: string, storeA: string, { bin, bare }: Side, label: string): Promise<AbRun> {
  const storeB = join(work, 'B')
  await rm(storeB, { recursive: true, force: true })
  await initTrustingStore(storeB, storeA, bin)
  const a = await startFerryDaemon(`${label} A`, storeA, bin, bare)
  const b = await startFerryDaemon(`${label} B`, storeB, bin, bare)
  try {
    await resetPageCache(await regularFilesBelow(storeA))
    const before = await Promise.all([processCpuSeconds(a.pid), processCpuSeconds(b.pid)])
    const run = await ferrySyncRun(a.addr, HEAD, storeB, [a.pid, b.pid], bin)
    const after = await Promise.all([processCpuSeconds(a.pid), processCpuSeconds(b.pid)])
    return {
      seconds: run.phase.result.seconds ?? run.phase.wallSeconds,
      cpuA: after[0] - before[0],
      cpuB: after[1] - before[1],
      rssA: (await a.peakRssKiB()) / 1024,
      rssB: (await b.peakRssKiB()) / 1024,
    }
  } finally {
    await Promise.all([a.stop(), b.stop()])
    await rm(storeB, { recursive: true, force: true })
  }
}

/** Interleaved pairs of runs of two builds; prints each run and the medians. */
export async function syncAbBench(): Promise<void> {
  const [oldArg, newArg, pairsArg] = process.argv.slice(3)
  if (oldArg === undefined || newArg === undefined)
    throw new Error(
      'usage: npm run bench -- sync-ab OLD/dist/cli/main.js[,bare] NEW/dist/cli/main.js[,bare] [PAIRS]',
    )
  const pairs = Number(pairsArg ?? 4)
  await withTempDir('ferry-bench-sync-ab-', async (work) => {
    const files = await writeDataSet(join(work, 'data'), 4, 256 * MiB)
    // Each build syncs from a store A it made itself: builds may differ in store format.
    const storesA = new Map<string, string>()
    const builds = [
      ['old', side(oldArg)],
      ['new', side(newArg)],
    ] as const
    for (const [, { bin }] of builds) {
      if (storesA.has(bin)) continue
      const storeA = join(work, `A${storesA.size + 1}`)
      await ferryJson(['init', '--store', storeA], bin)
      await buildRelease(storeA, work, HEAD, '1', files, bin)
      storesA.set(bin, storeA)
    }
    const runs: Record<'old' | 'new', AbRun[]> = { old: [], new: [] }
    for (let i = 1; i <= pairs; i++) {
      for (const [label, build] of builds) {
        const run = await runOnce(work, storesA.get(build.bin) as string, build, label)
        runs[label].push(run)
        log(
          `pair ${i}/${pairs} ${label}: ${run.seconds.toFixed(2)} s, CPU A ${run.cpuA.toFixed(2)} s, B ${run.cpuB.toFixed(2)} s, peak RSS A ${run.rssA.toFixed(0)}, B ${run.rssB.toFixed(0)} MiB`,
        )
      }
    }
    for (const label of ['old', 'new'] as const) {
      const r = runs[label]
      const rss = (pick: (run: AbRun) => number) =>
        `${median(r.map(pick)).toFixed(0)} MiB (max ${Math.max(...r.map(pick)).toFixed(0)})`
      process.stdout.write(
        `${label}: median ${median(r.map((x) => x.seconds)).toFixed(2)} s, CPU A ${median(r.map((x) => x.cpuA)).toFixed(2)} s, B ${median(r.map((x) => x.cpuB)).toFixed(2)} s, peak RSS A ${rss((x) => x.rssA)}, B ${rss((x) => x.rssB)} (${r.length} runs)\n`,
      )
    }
  })
}
