/*
 * How the reliability tests run a fuzz target: 1,000 inputs drawn with a
 * fixed seed, bounded in time, and the assertion on what ran: every input
 * ran, and none crashed, hung or blew up memory.
 */
import type { ExecutionContext } from 'ava'
import { type FuzzRow, type FuzzTarget, failures, fuzzTarget, summary } from './harness.js'

/** Inputs a target in CI; the bench runs 10^5. */
export const CI_RUNS = 1000
export const CI_SEED = 42

/** Fuzzes `target` with the CI budget and asserts the outcome; returns the row for further checks. */
export async function fuzzInCi<T>(
  t: ExecutionContext,
  target: FuzzTarget<T>,
  options: { numRuns?: number; timeLimitMs?: number; inputMs?: number } = {},
): Promise<FuzzRow> {
  const numRuns = options.numRuns ?? CI_RUNS
  const row = await fuzzTarget(target, {
    numRuns,
    seed: CI_SEED,
    timeLimitMs: options.timeLimitMs ?? 120_000,
    inputMs: options.inputMs,
  })
  t.log(summary(row))
  t.is(failures(row), 0, row.firstFailure ?? row.deadAfter)
  t.false(row.interrupted, `stopped at the time limit after ${row.inputs} of ${numRuns} inputs`)
  t.is(row.inputs, numRuns)
  return row
}
