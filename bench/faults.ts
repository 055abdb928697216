/*
 * Fault figures (issue 18): `npm run bench -- faults [kill|fuzz]` (both by default).
 *  - kill: kill -9 trials of build, import, sync and gc (bench/faults-kill.ts; knobs BENCH_FAULTS_MB,
 *    BENCH_FAULTS_TRIALS, BENCH_FAULTS_SEED, BENCH_FAULTS_OPS).
 *  - fuzz: every fuzz target (bench/faults-fuzz.ts), BENCH_FAULTS_FUZZ_RUNS inputs each (default 10^5), seed 42;
 *    `npm run bench -- fuzz [RUNS] [SEED] [TARGET]` runs them alone.
 * Exits non-zero when any trial failed.
 */
import { failures as fuzzFailures } from '../test/reliability/fuzz/harness.js'
import { fuzzFaults, fuzzTable } from './faults-fuzz.js'
import { killFaults } from './faults-kill.js'

/** The sections, each returning how many of its cases failed. */
const sections: Record<string, () => Promise<number>> = {
  kill: killFaults,
  fuzz: fuzzSection,
}

async function fuzzSection(): Promise<number> {
  const runs = Number(process.env.BENCH_FAULTS_FUZZ_RUNS ?? 100_000)
  const rows = await fuzzFaults(runs)
  process.stdout.write(`\n${fuzzTable(rows)}\n`)
  return rows.reduce((sum, row) => sum + fuzzFailures(row), 0)
}

export async function faultsBench(): Promise<void> {
  const wanted = process.argv[3]
  const names = wanted === undefined ? Object.keys(sections) : [wanted]
  let failed = 0
  for (const name of names) {
    const section = sections[name]
    if (section === undefined)
      throw new Error(`no faults section ${name} (${Object.keys(sections).join(', ')})`)
    failed += await section()
  }
  if (failed > 0) {
    process.stderr.write(`faults: ${failed} case(s) failed\n`)
    process.exitCode = 1
  }
}
