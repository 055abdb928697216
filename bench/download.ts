/*
 * `npm run bench -- download` (issue 14): `ferry download` against the tool a
 * user would use instead, on 127.0.0.1 only, in interleaved runs (ferry,
 * baseline, ferry, baseline…; RUNS each, medians): a file by URL against curl,
 * a registry image against skopeo copy, Debian packages against apt-get
 * --download-only. Each ferry run gets a fresh store (`ferry init` of the same
 * build), removed after; each baseline a fresh folder. BENCH_DOWNLOAD_MIB
 * (default 1024) scales the file and the image down.
 */
import { statSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { table } from '../cli/output.js'
import { aptCase, type DownloadCase, ferryDownload, imageCase, urlCase } from './download-cases.js'
import { aptFloor, type Floor, passCosts, transferFloor } from './download-floor.js'
import { ferryJson } from './ferry.js'
import { type Measured, machineFacts, median } from './measure.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
/** Interleaved pairs a case (BENCH_DOWNLOAD_RUNS overrides). */
const RUNS = Number(process.env.BENCH_DOWNLOAD_RUNS ?? 3)
/** ferry's peak RSS downloading the image. */
const IMAGE_RSS_GOAL_MIB = 200

interface Run {
  seconds: number
  cpu: number
  rssMiB: number
  /** CPU seconds of the rest of the machine meanwhile: the server (in this process or the registry's). */
  serverCpu: number
}

interface CaseResult {
  name: string
  unit: DownloadCase['unit']
  bytes: number
  goal: number
  ferry: Run[]
  baseline: Run[]
  floor: Floor
}

function run(m: Measured): Run {
  return {
    seconds: m.wallSeconds,
    cpu: m.userSeconds + m.sysSeconds,
    rssMiB: m.peakRssKiB / 1024,
    serverCpu: (m.benchCpuSeconds ?? 0) + m.otherCpuSeconds,
  }
}

function log(message: string): void {
  process.stderr.write(`bench download: ${message}\n`)
}

/** RUNS interleaved pairs of `c`: ferry into a fresh store, then the baseline into a fresh folder. */
async function measureCase(work: string, c: DownloadCase): Promise<CaseResult> {
  const result: Omit<CaseResult, 'floor'> = {
    name: c.name,
    unit: c.unit,
    bytes: c.bytes,
    goal: c.goal,
    ferry: [],
    baseline: [],
  }
  for (let i = 1; i <= RUNS; i++) {
    const store = join(work, 'store')
    await ferryJson(['init', '--store', store])
    try {
      result.ferry.push(run(await ferryDownload(c, store, String(i))))
    } finally {
      await rm(store, { recursive: true, force: true })
    }
    const dir = join(work, 'baseline')
    await mkdir(dir, { recursive: true })
    try {
      result.baseline.push(run(await c.baseline(dir)))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const [f, b] = [result.ferry[i - 1], result.baseline[i - 1]]
    log(
      `${c.name} ${i}/${RUNS}: ferry ${f.seconds.toFixed(2)} s (${f.rssMiB.toFixed(0)} MiB), baseline ${b.seconds.toFixed(2)} s`,
    )
  }
  return { ...result, floor: await floorOf(work, c, result.baseline) }
}

/** The case's floor (download-floor.ts), from its baseline's median run. */
async function floorOf(work: string, c: DownloadCase, baseline: Run[]): Promise<Floor> {
  const wall = med(baseline, (x) => x.seconds)
  if (c.floor.kind === 'transfer') {
    const costs = await passCosts(c.floor.sample, statSync(c.floor.sample).size)
    return transferFloor(c.bytes, c.floor.extraHashes, costs, {
      wall,
      cpu: med(baseline, (x) => x.cpu),
      serverCpu: med(baseline, (x) => x.serverCpu),
    })
  }
  const dir = join(work, 'floor')
  const steps = c.floor.steps
  await mkdir(dir, { recursive: true })
  try {
    return await aptFloor(() => steps(dir), wall)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Where each case's floor lies: what ferry cannot go below on this machine with the work its design asks for. */
function floorReport(results: CaseResult[]): string {
  const rows = [['case', 'ferry (measured)', 'ferry at best', 'best ratio', 'how the floor is made']]
  for (const r of results) {
    const seconds = med(r.ferry, (x) => x.seconds)
    const cpu = med(r.ferry, (x) => x.cpu)
    const cpuCell = r.floor.leastCpu === undefined ? '' : `, ${cpu.toFixed(2)} CPU s`
    const leastCpu = r.floor.leastCpu === undefined ? '' : `, ${r.floor.leastCpu.toFixed(2)} CPU s`
    rows.push([
      r.name,
      `${seconds.toFixed(2)} s${cpuCell}`,
      `${r.floor.leastWall.toFixed(2)} s${leastCpu}`,
      `${r.floor.bestRatio.toFixed(2)} (goal ${r.goal.toFixed(1)})`,
      r.floor.how,
    ])
  }
  return table(rows)
}

const med = (runs: Run[], pick: (r: Run) => number) => median(runs.map(pick))

/** ferry's speed over the baseline's (>1: ferry faster), on median wall seconds. */
function ratio(r: CaseResult): number {
  return med(r.baseline, (x) => x.seconds) / med(r.ferry, (x) => x.seconds)
}

function figure(r: CaseResult, runs: Run[]): string {
  const seconds = med(runs, (x) => x.seconds)
  return r.unit === 'MiB/s' ? `${(r.bytes / MiB / seconds).toFixed(0)} MiB/s` : `${seconds.toFixed(2)} s`
}

function report(results: CaseResult[]): string {
  const rows = [
    ['case', 'ferry', 'baseline', 'ratio (goal)', 'ferry CPU s', 'ferry peak RSS', 'baseline peak RSS'],
  ]
  for (const r of results) {
    const x = ratio(r)
    let verdict = `${x.toFixed(2)} (≥ ${r.goal.toFixed(1)}: ${x >= r.goal ? 'met' : 'NOT met'})`
    const rss = med(r.ferry, (y) => y.rssMiB)
    let rssCell = `${rss.toFixed(0)} MiB`
    if (r.name.startsWith('registry image'))
      rssCell += ` (≤ ${IMAGE_RSS_GOAL_MIB}: ${rss <= IMAGE_RSS_GOAL_MIB ? 'met' : 'NOT met'})`
    if (r.unit === 'seconds') verdict += ' [time ratio]'
    rows.push([
      r.name,
      figure(r, r.ferry),
      figure(r, r.baseline),
      verdict,
      med(r.ferry, (y) => y.cpu).toFixed(2),
      rssCell,
      `${med(r.baseline, (y) => y.rssMiB).toFixed(0)} MiB`,
    ])
  }
  return table(rows)
}

/** Runs the three cases and prints the table and a `BENCH_JSON` line on stdout. */
export async function downloadBench(): Promise<void> {
  const mib = Number(process.env.BENCH_DOWNLOAD_MIB ?? 1024)
  if (!Number.isFinite(mib) || mib <= 0)
    throw new Error('BENCH_DOWNLOAD_MIB must be a positive number of MiB')
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('BENCH_DOWNLOAD_RUNS must be a positive integer')
  const teardowns: Array<() => Promise<void> | void> = []
  const t = { teardown: (fn: () => Promise<void> | void) => void teardowns.push(fn) }
  const results: CaseResult[] = []
  try {
    await withTempDir('ferry-bench-download-', async (work) => {
      const cases = [
        ['url', 'URL file', () => urlCase(t, work, Math.round(mib * MiB))],
        ['image', 'registry image', () => imageCase(t, work, Math.round(mib * MiB))],
        ['apt', 'Debian packages', () => aptCase(t, work)],
      ] as const
      // BENCH_DOWNLOAD_CASES=url,image,apt runs some of them (all by default).
      const only = process.env.BENCH_DOWNLOAD_CASES?.split(',')
      for (const [key, label, make] of cases) {
        if (only !== undefined && !only.includes(key)) continue
        log(`preparing: ${label}`)
        results.push(await measureCase(work, await make()))
      }
    })
  } finally {
    for (const fn of teardowns.reverse()) await fn()
  }
  const machine = machineFacts()
  process.stdout.write(
    `ferry download benchmark, ${machine.date}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ${mib} MiB, ${RUNS} interleaved runs each, medians\n`,
  )
  process.stdout.write(
    `${report(results)}\n\nThe floor (download-floor.ts): the least time the design's work allows here\n`,
  )
  process.stdout.write(`${floorReport(results)}\n`)
  const json = results.map((r) => ({ ...r, ratio: ratio(r) }))
  process.stdout.write(
    `BENCH_JSON ${JSON.stringify({ bench: 'download', machine, mib, runs: RUNS, rssGoalMiB: IMAGE_RSS_GOAL_MIB, results: json })}\n`,
  )
}
