import test from 'ava'
import { prng } from '../helpers/archive.js'
import { tempDir } from '../helpers/cli.js'
import { type Kill9OpName, runTrials, survived } from '../helpers/kill9-common.js'
import { buildOp, gcOp, importOp, type Kill9Data, prepareKill9 } from '../helpers/kill9-ops.js'
import { syncOp } from '../helpers/kill9-sync.js'

/*
 * kill -9 at seeded random moments (issue 18), CI-sized: the figures at 512 MiB and 20 trials come
 * from `npm run bench -- faults` (bench/faults-kill.ts), with the same trials
 * (test/helpers/kill9-*.ts). After each kill, `verify` passes, the heads are the old ones (or the
 * complete new ones), and the same command re-run completes redoing at most 5 % of the bytes.
 */

const MiB = 1024 * 1024
const SIZE = 40 * MiB
const TRIALS = 3
const SEED = 1809

let data: Kill9Data | undefined
let cleanup: (() => Promise<void>) | undefined

test.before(async () => {
  const temp = await tempDir('ferry-kill9-')
  cleanup = temp.cleanup
  data = await prepareKill9(temp.dir, SIZE, `kill9/${SEED}`)
})
test.after.always(async () => {
  await cleanup?.()
})

const makers = { build: buildOp, import: importOp, sync: syncOp, gc: gcOp }

for (const [i, name] of (['build', 'import', 'sync', 'gc'] as Kill9OpName[]).entries()) {
  // Serial: the sync's publisher daemon holds the store that gc's setup copies.
  test.serial(
    `${name} killed -9 at ${TRIALS} random moments: verify passes, heads sound, the re-run redoes at most 5 %`,
    async (t) => {
      if (data === undefined) return t.fail('no data')
      const op = await makers[name](data)
      try {
        const { referenceMs, note, outcomes } = await runTrials(op, TRIALS, prng(SEED + i), {
          mode: 'progress',
        })
        t.log(`${name}: unkilled run ${Math.round(referenceMs)} ms${note ? ` (${note})` : ''}`)
        for (const o of outcomes) {
          t.log(
            `#${o.trial + 1} killed after ${o.delayMs} ms${o.killed ? '' : ' (had finished)'}: ` +
              `${(100 * o.durable).toFixed(1)} % durable, re-transferred ${(100 * o.retransferred).toFixed(2)} %`,
          )
          t.true(o.verified, `trial ${o.trial + 1}: verify after the kill: ${o.problem}`)
          t.true(o.headsOk, `trial ${o.trial + 1}: heads after the kill: ${o.problem}`)
          t.true(o.rerunOk, `trial ${o.trial + 1}: the re-run: ${o.problem}`)
          t.true(survived(o), `trial ${o.trial + 1}: re-transferred ${o.retransferred}: ${o.problem}`)
        }
        t.true(
          outcomes.some((o) => o.killed),
          'at least one trial was killed while the command still ran (else nothing was tested)',
        )
      } finally {
        await op.close()
      }
    },
  )
}
