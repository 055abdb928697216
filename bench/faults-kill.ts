/*
 * kill -9 figures (issue 18): for `bom build`, `import` of an archive, a sync
 * into a daemon and `gc`, TRIALS runs each SIGKILLed at a seeded random moment
 * within an unkilled run's duration; after each, `verify` must pass, the
 * heads be the old ones (or the complete new ones), and the same command
 * re-run complete, redoing at most 5 % (see test/helpers/kill9-common.ts for
 * what "re-transferred" means for each operation).
 *
 *   BENCH_FAULTS_MB=512 BENCH_FAULTS_TRIALS=20 BENCH_FAULTS_SEED=18 BENCH_FAULTS_OPS=build,import,sync,gc
 */
import { prng } from '../test/helpers/archive.js'
import {
  type Kill9OpName,
  type Kill9Summary,
  MAX_RETRANSFERRED,
  runTrials,
  summarize,
  survived,
  type TrialOutcome,
} from '../test/helpers/kill9-common.js'
import { buildOp, gcOp, importOp, type Kill9Data, prepareKill9 } from '../test/helpers/kill9-ops.js'
import { syncOp } from '../test/helpers/kill9-sync.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
const OPS: Kill9OpName[] = ['build', 'import', 'sync', 'gc']
/** gc with a first pack filled past 1 GiB, so that it rewrites it (BENCH_FAULTS_GC_FILL=0: without). */
const gcFilled = (data: Kill9Data) => gcOp(data, { compaction: process.env.BENCH_FAULTS_GC_FILL !== '0' })
const makers = { build: buildOp, import: importOp, sync: syncOp, gc: gcFilled }

/** A positive integer from the environment, or `fallback`. */
function envInt(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, not ${text}`)
  return value
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`

function line(o: TrialOutcome): string {
  const verdict = survived(o) ? 'ok' : 'FAILED'
  return (
    `  ${o.op} #${o.trial + 1}: killed after ${o.delayMs} ms${o.killed ? '' : ' (had finished)'}: ${verdict}, ` +
    `${pct(o.durable)} durable, re-transferred ${pct(o.retransferred)}, lost at the kill ${pct(o.lost)}${o.problem ? `: ${o.problem}` : ''}\n`
  )
}

/** The figures table, one row per operation. */
export function kill9Table(rows: Kill9Summary[], sizeMiB: number): string {
  const head =
    `| operation (${sizeMiB} MiB) | trials | killed mid-run | durable at kill | survived | verify passed | re-transferred max | mean | ` +
    'lost at kill max | unkilled run |\n|---|---|---|---|---|---|---|---|---|---|\n'
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.op} | ${r.trials} | ${r.killed} | ${pct(r.minDurable)}..${pct(r.maxDurable)} | ${r.survived}/${r.trials} | ${r.verified}/${r.trials} | ` +
          `${pct(r.maxRetransferred)} | ${pct(r.meanRetransferred)} | ${pct(r.maxLost)} | ${(r.referenceMs / 1000).toFixed(1)} s |`,
      )
      .join('\n') +
    '\n'
  )
}

/** Runs the kill -9 trials and prints the table; returns the number of trials that did not survive. */
export async function killFaults(): Promise<number> {
  const sizeMiB = envInt('BENCH_FAULTS_MB', 512)
  const trials = envInt('BENCH_FAULTS_TRIALS', 20)
  const seed = envInt('BENCH_FAULTS_SEED', 18)
  const ops = (process.env.BENCH_FAULTS_OPS ?? OPS.join(','))
    .split(',')
    .filter((op): op is Kill9OpName => (OPS as string[]).includes(op))
  process.stdout.write(
    `kill -9: ${trials} trials each of ${ops.join(', ')} on ${sizeMiB} MiB (seed ${seed}; ` +
      `a trial survives when verify passes, heads are sound and the re-run redoes at most ${pct(MAX_RETRANSFERRED)})\n`,
  )
  return withTempDir('ferry-bench-faults-', async (dir) => {
    const started = performance.now()
    const data: Kill9Data = await prepareKill9(dir, sizeMiB * MiB, `faults/${seed}`)
    process.stdout.write(`data ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
    const rows: Kill9Summary[] = []
    for (const name of ops) {
      const op = await makers[name](data)
      try {
        const { referenceMs, note, outcomes } = await runTrials(
          op,
          trials,
          prng(seed * 31 + OPS.indexOf(name)),
          {
            onTrial: (o) => process.stdout.write(line(o)),
          },
        )
        if (note !== undefined) process.stdout.write(`  (${note})\n`)
        rows.push(summarize(name, referenceMs, outcomes))
      } finally {
        await op.close()
      }
    }
    process.stdout.write(`\n${kill9Table(rows, sizeMiB)}`)
    process.stdout.write(`(${((performance.now() - started) / 60_000).toFixed(1)} min in all)\n`)
    return rows.reduce((sum, r) => sum + r.trials - r.survived, 0)
  })
}
