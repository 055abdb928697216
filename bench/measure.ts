import { execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** GNU time: reports a child's peak RSS and CPU seconds, the way a user would measure them. */
export const TIME_BIN = '/usr/bin/time'
const TIME_MARK = 'BENCH_TIME'
const TIME_FORMAT = `${TIME_MARK} %M %U %S`

/**
 * Bytes of arguments per process when a file list is split over several
 * runs (like xargs). Far below ARG_MAX, so the environment always fits too.
 */
const ARGUMENT_BYTES = 128 * 1024

/** /proc/stat counts in USER_HZ ticks (`getconf CLK_TCK`), 100 on Linux. */
const CLOCK_TICKS = 100
/**
 * CPU seconds per run that the counters cannot tell apart from nothing: two
 * /proc/stat reads and GNU time's user and system figures, 10 ms each.
 */
const CPU_RESOLUTION = 0.04

/** What one measured run cost. */
export interface Cost {
  /** Wall-clock seconds from spawn to exit. */
  wallSeconds: number
  userSeconds: number
  sysSeconds: number
  /** Peak resident set size (the largest over the runs when several are summed). */
  peakRssKiB: number
  /** CPU seconds that other processes on the machine used meanwhile, beyond what the counters resolve: 0 on a quiet machine. */
  otherCpuSeconds: number
  /** CPU seconds the benchmark's own process used meanwhile (a server it runs, for one). */
  benchCpuSeconds?: number
}

/** A measured run and what it printed on stdout. */
export interface Measured extends Cost {
  stdout: string
}

/** Where and with which environment a measured command runs. */
export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
}

/**
 * The machine may be shared: a run is measured again (up to ATTEMPTS times in
 * all) when other processes used more than BUSY_SHARE of its CPU time meanwhile.
 */
export const BUSY_SHARE = 0.05
export const ATTEMPTS = 3

/** The absolute path of `name` on PATH (`command -v`), or undefined when it is not installed. */
export async function findProgram(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('sh', ['-c', 'command -v "$1"', 'sh', name])
    return stdout.trim() || undefined
  } catch {
    return undefined
  }
}

/** Fails with a clear message when a program the benchmark needs is missing. */
export async function requireProgram(command: string, args: string[], hint: string): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args)
    return `${stdout}${stderr}`.trim()
  } catch {
    throw new Error(`${command} is needed to run this benchmark (${hint})`)
  }
}

/** CPU seconds that all processes have used since boot (from /proc/stat, steal included). */
async function machineCpuSeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
}

/** Runs `command ARGS` under GNU time; throws with its stderr when it fails. */
export async function measured(command: string, args: string[], options: RunOptions = {}): Promise<Measured> {
  const machineBefore = await machineCpuSeconds()
  const ownBefore = process.cpuUsage()
  const run = await timedRun(command, args, options)
  const own = process.cpuUsage(ownBefore)
  const machine = (await machineCpuSeconds()) - machineBefore
  const others = machine - run.userSeconds - run.sysSeconds - (own.user + own.system) / 1e6
  return {
    ...run,
    otherCpuSeconds: round(Math.max(0, others - CPU_RESOLUTION)),
    benchCpuSeconds: round((own.user + own.system) / 1e6),
  }
}

/** Spawns `command ARGS` under GNU time and parses its figures from stderr. */
function timedRun(
  command: string,
  args: string[],
  options: RunOptions,
): Promise<Omit<Measured, 'otherCpuSeconds'>> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(TIME_BIN, ['-f', TIME_FORMAT, command, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (data: Buffer) => out.push(data))
    child.stderr.on('data', (data: Buffer) => err.push(data))
    child.on('error', reject)
    child.on('close', (code) => {
      const wallSeconds = Number((process.hrtime.bigint() - started) / 1_000_000n) / 1000
      const stderr = Buffer.concat(err).toString('utf8')
      const lines = stderr.trimEnd().split('\n')
      const mark = lines.findLast((line) => line.startsWith(TIME_MARK))
      if (code !== 0 || mark === undefined) {
        const output = lines.filter((line) => !line.startsWith(TIME_MARK)).join('\n')
        reject(new Error(`${command} ${args.slice(0, 3).join(' ')}… exited with ${code}:\n${output}`))
        return
      }
      const [, rss, user, sys] = mark.split(' ')
      resolve({
        wallSeconds,
        userSeconds: Number(user),
        sysSeconds: Number(sys),
        peakRssKiB: Number(rss),
        stdout: Buffer.concat(out).toString('utf8'),
      })
    })
  })
}

/** True when other processes took more than BUSY_SHARE of the machine while `cost` was measured. */
export function isDisturbed(cost: Cost): boolean {
  return cost.otherCpuSeconds > BUSY_SHARE * cost.wallSeconds * availableParallelism()
}

/**
 * Measures until a run is undisturbed or ATTEMPTS runs were made; returns the
 * last and how many were repeated. `log` hears about each repeat.
 */
export async function undisturbed<T extends { cost: Cost }>(
  label: string,
  measure: () => Promise<T>,
  log: (message: string) => void,
): Promise<T & { repeats: number }> {
  for (let attempt = 1; ; attempt++) {
    const run = await measure()
    if (!isDisturbed(run.cost) || attempt === ATTEMPTS) return { ...run, repeats: attempt - 1 }
    log(`${label}: other processes used ${run.cost.otherCpuSeconds} CPU s meanwhile; measuring again`)
  }
}

/** Splits arguments into lists of at most ARGUMENT_BYTES each, in order. */
function argumentBatches(items: string[]): string[][] {
  const batches: string[][] = []
  let batch: string[] = []
  let bytes = 0
  for (const item of items) {
    const size = Buffer.byteLength(item) + 1
    if (batch.length > 0 && bytes + size > ARGUMENT_BYTES) {
      batches.push(batch)
      batch = []
      bytes = 0
    }
    batch.push(item)
    bytes += size
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/**
 * Runs `command FIXED ITEMS` with the items split over as few processes as
 * the argument limit allows, one after the other; the costs add up (peak RSS: the largest).
 */
export async function measuredBatches(
  command: string,
  fixed: string[],
  items: string[],
  options: RunOptions = {},
): Promise<Measured> {
  const total: Measured = {
    wallSeconds: 0,
    userSeconds: 0,
    sysSeconds: 0,
    peakRssKiB: 0,
    otherCpuSeconds: 0,
    stdout: '',
  }
  for (const batch of argumentBatches(items)) {
    const run = await measured(command, [...fixed, ...batch], options)
    total.wallSeconds = Math.round((total.wallSeconds + run.wallSeconds) * 1000) / 1000
    total.userSeconds = round(total.userSeconds + run.userSeconds)
    total.sysSeconds = round(total.sysSeconds + run.sysSeconds)
    total.peakRssKiB = Math.max(total.peakRssKiB, run.peakRssKiB)
    total.otherCpuSeconds = round(total.otherCpuSeconds + run.otherCpuSeconds)
    total.stdout += run.stdout
  }
  return total
}

/** Rounds CPU seconds to the 10 ms that GNU time and /proc/stat resolve. */
function round(seconds: number): number {
  return Math.round(seconds * 100) / 100
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** The machine a benchmark ran on, for its report and BENCH_JSON line. */
export function machineFacts(): { date: string; cpus: number; cpuModel: string; node: string } {
  return {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  }
}
