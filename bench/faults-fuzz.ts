/*
 * The fuzzing part of `npm run bench -- faults` (issue 18): every fuzz
 * target of test/reliability/fuzz/ (the CAR reader and archive import, the
 * sync and heads messages, the requirements parser, the serving and API
 * routes of a real daemon) on RUNS inputs each (10^5 by default; the
 * reliability tests run 10^3 of the same seed), in this process. A row a
 * target: inputs, what was accepted and refused by code, crashes (an untyped
 * error, an untyped 5xx, a logged error), hangs, the slowest input and the
 * peak RSS. The first failure of a target is printed with its input.
 *
 *   npm run bench -- fuzz [RUNS] [SEED] [TARGET]   (TARGET: part of a target's name, e.g. 'import')
 */
import {
  archiveFixture,
  archiveImportTarget,
  bigArchiveFixture,
  carReaderTarget,
} from '../test/reliability/fuzz/car.js'
import { type FuzzRow, type FuzzTarget, failures, fuzzTarget } from '../test/reliability/fuzz/harness.js'
import { apiTarget, httpFixture, serveTarget } from '../test/reliability/fuzz/http.js'
import { headsTarget, replyTarget, wantTarget } from '../test/reliability/fuzz/messages.js'
import { requirementsTarget } from '../test/reliability/fuzz/requirements.js'

export type { FuzzRow }

/** The seed of the bench's inputs; the reliability tests use 42 too (their 10^3 are the bench's first). */
export const FUZZ_SEED = 42

/** A group of targets sharing a fixture, made when the group runs and freed after. */
interface Group {
  open(): Promise<{ targets: Array<FuzzTarget<never>>; close(): Promise<void> }>
}

/** Cheapest inputs first: a run cut short still has figures for most targets. */
const GROUPS: Group[] = [
  {
    async open() {
      const fixture = await archiveFixture()
      const targets = [
        carReaderTarget(fixture),
        await wantTarget(fixture),
        await headsTarget(fixture),
        await replyTarget(fixture),
      ]
      return { targets: targets as Array<FuzzTarget<never>>, close: () => fixture.close() }
    },
  },
  {
    async open() {
      const fixture = await httpFixture()
      return {
        targets: [serveTarget(fixture), apiTarget(fixture)] as Array<FuzzTarget<never>>,
        close: () => fixture.close(),
      }
    },
  },
  {
    async open() {
      const target = await requirementsTarget()
      return { targets: [target as FuzzTarget<never>], close: () => target.close() }
    },
  },
  {
    async open() {
      const fixture = await archiveFixture()
      return { targets: [archiveImportTarget(fixture) as FuzzTarget<never>], close: () => fixture.close() }
    },
  },
  {
    // An archive over one 4 MiB read slot: the import reads ahead while it parses (the refusals that leaked).
    async open() {
      const fixture = await bigArchiveFixture()
      const target = archiveImportTarget(fixture, 'archive import 5 MiB')
      return { targets: [target as FuzzTarget<never>], close: () => fixture.close() }
    },
  },
]

/** Runs every fuzz target (or those whose name includes `only`) on `runs` inputs drawn with `seed`; prints each row as it completes. */
export async function fuzzFaults(runs: number, seed = FUZZ_SEED, only?: string): Promise<FuzzRow[]> {
  const rows: FuzzRow[] = []
  for (const group of GROUPS) {
    const { targets, close } = await group.open()
    try {
      for (const target of targets) {
        if (only !== undefined && !target.name.includes(only)) continue
        const row = await fuzzTarget(target, { numRuns: runs, seed })
        rows.push(row)
        process.stdout.write(`${formatRow(row)}\n`)
        if (row.firstFailure) process.stdout.write(`  first failure: ${row.firstFailure}\n`)
        if (row.deadAfter) process.stdout.write(`  after the run: ${row.deadAfter}\n`)
      }
    } finally {
      await close()
    }
  }
  return rows
}

const MiB = 1024 * 1024

const HEADER =
  '| target | inputs | inputs/s | accepted | refused (by code) | crashes | hangs | max ms/input | peak RSS |'

function formatRow(row: FuzzRow): string {
  const refused = Object.entries(row.refusals)
    .sort()
    .map(([code, n]) => `${code} ${n}`)
  const answers = Object.entries(row.answers)
    .sort()
    .map(([label, n]) => `${label} ${n}`)
  const accepted = answers.length > 0 ? `${row.ok} (${answers.join(', ')})` : `${row.ok}`
  return `| ${row.target} | ${row.inputs} | ${Math.round(row.inputs / (row.ms / 1000))} | ${accepted} | ${refused.join(', ') || '—'} | ${row.crashes} | ${row.hangs} | ${row.maxMs.toFixed(1)} | ${Math.round(row.peakRss / MiB)} MiB |`
}

/** The rows as a markdown table. */
export function fuzzTable(rows: FuzzRow[]): string {
  return [HEADER, `|${'---|'.repeat(9)}`, ...rows.map(formatRow)].join('\n')
}

/** `npm run bench -- fuzz [RUNS] [SEED]`: the table, and a non-zero exit when a target failed. */
export async function fuzzBench(): Promise<void> {
  const runs = Number(process.argv[3] ?? 100_000)
  const seed = Number(process.argv[4] ?? FUZZ_SEED)
  const only = process.argv[5]
  if (!Number.isInteger(runs) || runs <= 0)
    throw new Error(`RUNS must be a positive integer, not ${process.argv[3]}`)
  process.stdout.write(`fuzzing ${runs} inputs a target, seed ${seed}\n${HEADER}\n`)
  const rows = await fuzzFaults(runs, seed, only)
  process.stdout.write(`\n${fuzzTable(rows)}\n`)
  const failed = rows.filter((row) => failures(row) > 0)
  if (failed.length > 0) throw new Error(`fuzzing failed: ${failed.map((row) => row.target).join(', ')}`)
}
