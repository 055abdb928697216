/*
 * kill -9 trials (issue 18), shared by test/reliability/kill9.test.ts and
 * `npm run bench -- faults`: what one trial reports, how it is judged, and
 * how a `ferry` command is SIGKILLed after a chosen delay.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { cp, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { packBytes, type StoreStatus } from './archive.js'
import { FERRY_BIN, ferry, ferryJson } from './cli.js'

/** The operations killed: `bom build`, `import`, a sync into a daemon, `gc`. */
export type Kill9OpName = 'build' | 'import' | 'sync' | 'gc'

/** The most a re-run may redo, as a share of the operation's bytes, for a trial to count as survived. */
export const MAX_RETRANSFERRED = 0.05

/**
 * What one trial found. `retransferred` is the share (0..1) of the operation's total bytes that the
 * re-run stored or received although they were already durable after the kill:
 *  - build, import: `newBytes` of the re-run minus what was still missing (`full - D`, where D is
 *    the store's block bytes after the kill and `full` those after an unkilled run), over `full`;
 *  - sync: `bytesReceived` of the restarted daemon's sync minus what was still missing, over `full`;
 *  - gc: the dead bytes still in the store after the re-run of gc (it must free what remained), over
 *    the dead bytes the unkilled gc removed.
 */
export interface TrialOutcome {
  op: Kill9OpName
  trial: number
  /** After how long the command (or daemon, from its start-up) was SIGKILLed. */
  delayMs: number
  /** Whether it was still running at the kill (false: it had finished first; the trial still counts). */
  killed: boolean
  /** `ferry verify` passed on the store right after the kill. */
  verified: boolean
  /** Heads after the kill were the old ones (or, for a finished run or gc, the complete new ones). */
  headsOk: boolean
  /** The same command re-run completed with the expected head (root as the unkilled run's). */
  rerunOk: boolean
  retransferred: number
  /** How far the operation had got: the share of its bytes durable after the kill (gc: of the dead bytes gone). */
  durable: number
  /** Bytes of packs on disk at the kill that the store did not keep (a torn record, or uncommitted work), over the total. */
  lost: number
  /** What went wrong, if anything. */
  problem?: string
}

/** Whether a trial survived: verify passed, heads as expected, the re-run completed, redoing at most 5 %. */
export function survived(o: TrialOutcome): boolean {
  return o.verified && o.headsOk && o.rerunOk && o.retransferred <= MAX_RETRANSFERRED
}

/** How one operation fared over its trials. */
export interface Kill9Summary {
  op: Kill9OpName
  trials: number
  killed: number
  survived: number
  verified: number
  maxRetransferred: number
  meanRetransferred: number
  maxLost: number
  /** Least and most of {@link TrialOutcome.durable}: how widely the kills spread over the run. */
  minDurable: number
  maxDurable: number
  /** Duration of the unkilled reference run, ms. */
  referenceMs: number
}

export function summarize(op: Kill9OpName, referenceMs: number, outcomes: TrialOutcome[]): Kill9Summary {
  const r = outcomes.map((o) => o.retransferred)
  return {
    op,
    trials: outcomes.length,
    killed: outcomes.filter((o) => o.killed).length,
    survived: outcomes.filter(survived).length,
    verified: outcomes.filter((o) => o.verified).length,
    maxRetransferred: r.length === 0 ? 0 : Math.max(...r),
    meanRetransferred: r.length === 0 ? 0 : r.reduce((a, b) => a + b, 0) / r.length,
    maxLost: Math.max(0, ...outcomes.map((o) => o.lost)),
    minDurable: Math.min(1, ...outcomes.map((o) => o.durable)),
    maxDurable: Math.max(0, ...outcomes.map((o) => o.durable)),
    referenceMs,
  }
}

/**
 * When a trial's SIGKILL comes: after `delayMs`, or once the store's packs pass `packsAbove` bytes
 * (bounded by `delayMs` then as a deadline).
 */
export interface KillAt {
  delayMs: number
  packsAbove?: number
}

/**
 * How kill moments are drawn: `time` uniformly over 2..98 % of the unkilled run's duration (the
 * bench's figures); `progress` (for small CI sizes, where start-up dominates the duration) once
 * 5..95 % of the pack bytes the run appends are written (for gc: the live blocks its compaction
 * moves), or else uniformly between the duration of the command with nothing to do and that of the
 * unkilled run.
 */
export type KillMode = 'time' | 'progress'

/** What an operation measured in its unkilled run, to place kill moments in. */
export interface Reference {
  ms: number
  /** Duration of the same command with nothing to do (gc). */
  idleMs?: number
  /** Pack bytes before the run, and how much the run added. */
  packsFrom?: number
  packsGrowth?: number
  /** What the unkilled run did, for the report. */
  note?: string
}

/** The kill moment for draw `u` (0..1). */
export function killAt(mode: KillMode, u: number, ref: Reference): KillAt {
  if (mode === 'progress' && ref.packsGrowth !== undefined && ref.packsGrowth > 0)
    return {
      delayMs: 20 * ref.ms + 60_000,
      packsAbove: (ref.packsFrom ?? 0) + (0.05 + 0.9 * u) * ref.packsGrowth,
    }
  if (mode === 'progress' && ref.idleMs !== undefined)
    return { delayMs: Math.round(ref.idleMs + u * Math.max(0, ref.ms - ref.idleMs)) }
  return { delayMs: Math.round(ref.ms * (0.02 + 0.96 * u)) }
}

/**
 * Resolves once the kill moment `at` has come, or `ended` resolved first (then true); polls the
 * packs every 5 ms when `at` waits for them.
 */
export async function waitForMoment(at: KillAt, store: string, ended: Promise<unknown>): Promise<boolean> {
  let done = false
  const finished = ended.then(() => {
    done = true
    return true
  })
  if (at.packsAbove === undefined) return Promise.race([finished, sleep(at.delayMs, false)])
  const deadline = Date.now() + at.delayMs
  while (!done && Date.now() < deadline) {
    if ((await packBytes(store)) >= at.packsAbove) return done
    await sleep(5)
  }
  return done
}

/** How a command killed by {@link runAndKill} ended. */
export interface KilledCommand {
  killed: boolean
  code: number | null
  stderr: string
  /** Bytes of packs on disk just before the SIGKILL. */
  packsAtKill: number
  /** Milliseconds from the start to the kill. */
  elapsedMs: number
}

/**
 * Runs `ferry ARGS` and SIGKILLs it at `at` (unless it ended first); `store`'s packs are
 * measured just before the kill. Resolves after the process exited.
 */
export async function runAndKill(store: string, args: string[], at: KillAt): Promise<KilledCommand> {
  const started = performance.now()
  const child = spawn(process.execPath, [FERRY_BIN, ...args], {
    env: { ...process.env, CI: '1', FERRY_STORE: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = once(child, 'exit')
  const ended = await waitForMoment(at, store, exited)
  const packsAtKill = await packBytes(store)
  const elapsedMs = Math.round(performance.now() - started)
  const killed = !ended && child.exitCode === null
  if (killed) child.kill('SIGKILL')
  await exited
  return {
    killed: killed && child.signalCode === 'SIGKILL',
    code: child.exitCode,
    stderr,
    packsAtKill,
    elapsedMs,
  }
}

/** Times `ferry ARGS --json` (which must succeed) and returns its parsed output. */
export async function timedJson<T>(args: string[], timeoutMs = 900_000): Promise<{ ms: number; out: T }> {
  const started = performance.now()
  const out = await ferryJson<T>(args, { timeoutMs })
  return { ms: performance.now() - started, out }
}

/** A copy of a (closed) store folder, for a trial to run on. */
export async function copyStore(from: string, to: string): Promise<string> {
  await rm(to, { recursive: true, force: true })
  await cp(from, to, { recursive: true, preserveTimestamps: true })
  return to
}

/** What a store holds right after a kill: verify's verdict, the status (opening it recovers the packs). */
export async function afterKill(
  store: string,
): Promise<{ verified: boolean; verifyOutput: string; status: StoreStatus; packs: number }> {
  const verify = await ferry(['verify', '--store', store], { timeoutMs: 900_000 })
  const status = await ferryJson<StoreStatus>(['status', '--store', store])
  return {
    verified: verify.code === 0,
    verifyOutput: `${verify.stdout}${verify.stderr}`.trim(),
    status,
    packs: await packBytes(store),
  }
}

/** The share of `full` that a re-run redid: `rerunBytes` beyond the `full - durable` still missing. */
export function redone(rerunBytes: number, full: number, durable: number): number {
  return Math.max(0, rerunBytes - Math.max(0, full - durable)) / full
}

/** One operation's trials: an unkilled reference run, then trials killed at given delays. */
export interface Kill9Op {
  name: Kill9OpName
  /** Runs the operation unkilled once (on a copy) and returns what it measured. */
  reference(): Promise<Reference>
  trial(index: number, at: KillAt): Promise<TrialOutcome>
  close(): Promise<void>
}

/**
 * Runs `trials` trials of `op` at seeded random moments (see {@link KillMode}); calls `onTrial`
 * after each (for progress).
 */
export async function runTrials(
  op: Kill9Op,
  trials: number,
  random: () => number,
  options: { mode?: KillMode; onTrial?: (o: TrialOutcome) => void } = {},
): Promise<{ referenceMs: number; note?: string; outcomes: TrialOutcome[] }> {
  const reference = await op.reference()
  const referenceMs = reference.ms
  const outcomes: TrialOutcome[] = []
  for (let i = 0; i < trials; i++) {
    const outcome = await op.trial(i, killAt(options.mode ?? 'time', random(), reference))
    outcomes.push(outcome)
    options.onTrial?.(outcome)
  }
  return { referenceMs, note: reference.note, outcomes }
}
