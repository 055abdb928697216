/*
 * Fault figures (issue 18): `npm run bench -- faults [kill|fuzz]` (both by default).
 *  - kill: kill -9 trials of build, import, sync and gc (bench/faults-kill.ts; knobs BENCH_FAULTS_MB,
 *    BENCH_FAULTS_TRIALS, BENCH_FAULTS_SEED, BENCH_FAULTS_OPS).
 *  - fuzz: fuzzed parsers (bench/faults-fuzz.ts, to come).
 * Exits non-zero when any trial failed.
 */
import { killFaults } from './faults-kill.js'

/** The sections, each returning how many of its cases failed. */
const sections: Record<string, () => Promise<number>> = {
  kill: killFaults,
  // fuzz: add here, e.g. `fuzz: () => fuzzFaults(runs)` with fuzzFaults from './faults-fuzz.js'.
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
