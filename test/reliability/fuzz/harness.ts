/*
 * The fuzzing harness shared by the reliability tests (10^3 inputs a target)
 * and `npm run bench -- fuzz` (10^5): a target is a fast-check arbitrary and
 * an async check that runs ferry's real parser or handler on one input. Each
 * input must resolve, or reject with a FerryError whose code is a typed ERR_
 * (not ERR_INTERNAL), within a time bound and without the process's memory
 * running away. Anything else is a crash, a hang or a blow-up, counted with
 * the input that caused it.
 */
import fc from 'fast-check'
import { isFerryError } from '../../../store/index.js'

/** One fuzz target: inputs and what is run on each. */
export interface FuzzTarget<T> {
  name: string
  arbitrary: fc.Arbitrary<T>
  /** Runs the real code on `input`; resolves (with a label to count, such as `HTTP 404`) or throws what it threw. */
  check(input: T): Promise<unknown>
  /** Whether the target still works after the run (a server still answers): a reason when it does not. */
  alive?(): Promise<string | undefined>
  /** The RSS of the process under test when it is not this one (a daemon), in bytes. */
  rss?(): number | undefined
  /** Frees what the target holds (stores, servers). */
  close(): Promise<void>
}

/** What became of one input. */
export type Outcome =
  | { kind: 'ok'; label?: string }
  | { kind: 'refused'; code: string }
  | { kind: 'crash'; error: unknown }
  | { kind: 'hang' }

export interface FuzzLimits {
  /** Longest an input may take before it counts as a hang. @default 10000 */
  inputMs?: number
  /** Most the RSS may grow above its level at the start of the run. @default 768 MiB */
  rssGrowthBytes?: number
}

/** Figures of one target's run. */
export interface FuzzRow {
  target: string
  inputs: number
  ok: number
  /** Refusals by error code. */
  refusals: Record<string, number>
  /** Accepted inputs by the label their check gave (HTTP statuses). */
  answers: Record<string, number>
  crashes: number
  hangs: number
  /** Inputs after which the RSS was over its bound. */
  blowups: number
  maxMs: number
  /** Highest RSS seen (bytes): of the process under test (a daemon) when the target names one, else this one. */
  peakRss: number
  /** Wall time of the run (ms). */
  ms: number
  /** The first failure: the input (as fast-check prints it) and why. */
  firstFailure?: string
  /** Set when the run stopped at its time limit before numRuns inputs. */
  interrupted: boolean
  /** The target's own health check after the run (undefined: healthy). */
  deadAfter?: string
}

/** Classifies what `run` did: typed refusals are fine, anything else is a crash; a time bound makes hangs visible. */
export async function runInput(run: () => Promise<unknown>, inputMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), inputMs)
  })
  const done = run().then(
    (label): Outcome => ({ kind: 'ok', label: typeof label === 'string' ? label : undefined }),
    (error: unknown): Outcome =>
      isFerryError(error) && error.code.startsWith('ERR_') && error.code !== 'ERR_INTERNAL'
        ? { kind: 'refused', code: error.code }
        : { kind: 'crash', error },
  )
  try {
    return await Promise.race([done, hang])
  } finally {
    clearTimeout(timer)
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return `${error.name}${code === undefined ? '' : ` ${String(code)}`}: ${error.message}\n${error.stack?.split('\n').slice(1, 6).join('\n')}`
  }
  return String(error)
}

export interface FuzzRunOptions extends FuzzLimits {
  numRuns: number
  seed: number
  /** Stop after this long (a safety for CI; the row says how many inputs ran). */
  timeLimitMs?: number
}

/**
 * Runs `target` on `numRuns` inputs drawn with `seed` (fast-check's runner:
 * the same seed draws the same inputs). Every input runs, failures
 * included: the row counts them, and keeps the first with its input.
 */
export async function fuzzTarget<T>(target: FuzzTarget<T>, options: FuzzRunOptions): Promise<FuzzRow> {
  const inputMs = options.inputMs ?? 10_000
  const rssGrowth = options.rssGrowthBytes ?? 768 * 1024 * 1024
  const baseline = target.rss?.() ?? process.memoryUsage.rss()
  const row: FuzzRow = {
    target: target.name,
    inputs: 0,
    ok: 0,
    refusals: {},
    answers: {},
    crashes: 0,
    hangs: 0,
    blowups: 0,
    maxMs: 0,
    peakRss: baseline,
    ms: 0,
    interrupted: false,
  }
  const started = performance.now()
  const fail = (input: T, why: string) => {
    row.firstFailure ??= `${why}\ninput: ${fc.stringify(input).slice(0, 2000)}`
  }
  // A rejection nobody handles would end the process (the CLI's, the daemon's): a crash of the input at hand.
  let current: T | undefined
  const unhandled = (reason: unknown) => {
    row.crashes++
    row.firstFailure ??= `unhandled rejection: ${describe(reason)}\ninput: ${fc.stringify(current).slice(0, 2000)}`
  }
  const property = fc.asyncProperty(target.arbitrary, async (input) => {
    current = input
    const t0 = performance.now()
    const outcome = await runInput(() => target.check(input), inputMs)
    const ms = performance.now() - t0
    row.inputs++
    row.maxMs = Math.max(row.maxMs, ms)
    const rss = target.rss?.() ?? process.memoryUsage.rss()
    row.peakRss = Math.max(row.peakRss, rss)
    if (rss - baseline > rssGrowth) {
      row.blowups++
      fail(
        input,
        `RSS ${Math.round(rss / 2 ** 20)} MiB, ${Math.round((rss - baseline) / 2 ** 20)} MiB over the start`,
      )
    }
    if (outcome.kind === 'ok') {
      row.ok++
      if (outcome.label !== undefined) row.answers[outcome.label] = (row.answers[outcome.label] ?? 0) + 1
    } else if (outcome.kind === 'refused') row.refusals[outcome.code] = (row.refusals[outcome.code] ?? 0) + 1
    else if (outcome.kind === 'hang') {
      row.hangs++
      fail(input, `no answer within ${inputMs} ms`)
    } else {
      row.crashes++
      fail(input, `crash: ${describe(outcome.error)}`)
    }
  })
  process.on('unhandledRejection', unhandled)
  let interrupted = false
  try {
    const result = await fc.check(property, {
      numRuns: options.numRuns,
      seed: options.seed,
      interruptAfterTimeLimit: options.timeLimitMs,
      markInterruptAsFailure: false,
    })
    interrupted = result.interrupted
    // Let a last stray rejection surface while it is still this run's.
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    process.off('unhandledRejection', unhandled)
  }
  row.interrupted = interrupted
  row.ms = performance.now() - started
  row.deadAfter = await target.alive?.()
  return row
}

/** A row's failures: crashes, hangs, blow-ups and a dead target. */
export function failures(row: FuzzRow): number {
  return row.crashes + row.hangs + row.blowups + (row.deadAfter === undefined ? 0 : 1)
}

/** One line for a test log: inputs, rate, refusals. */
export function summary(row: FuzzRow): string {
  const rate = row.inputs / (row.ms / 1000)
  const refusals = Object.entries(row.refusals)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ')
  const answers = Object.entries(row.answers)
    .sort()
    .map(([label, n]) => `${label} ${n}`)
    .join(', ')
  return `${row.target}: ${row.inputs} inputs in ${(row.ms / 1000).toFixed(1)} s (${rate.toFixed(0)}/s), ${row.ok} accepted${answers ? ` (${answers})` : ''}, refused: ${refusals || 'none'}; crashes ${row.crashes}, hangs ${row.hangs}, max ${row.maxMs.toFixed(1)} ms/input, peak RSS ${Math.round(row.peakRss / 2 ** 20)} MiB`
}
