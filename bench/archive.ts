/*
 * Archive benchmark (issue 3): `ferry export` against `tar -cf` of the same
 * files, `ferry import` against `openssl dgst -sha256` over the archive, the
 * peak RSS of both for a 2 GiB archive, and the size of a delta archive for a
 * version pair against an rsync batch and what casync would have to carry.
 */
import { rm } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { FILE_BYTES, findTools, GOALS, HEAD, log, mib, missing, RUNS, SET_FILES } from './archive-common.js'
import { buildHead, writeParts } from './archive-data.js'
import { deltaBench } from './archive-delta.js'
import { memoryBench } from './archive-memory.js'
import { details, resultTable } from './archive-report.js'
import { throughputBench } from './archive-throughput.js'
import { ferryJson } from './ferry.js'
import { requireProgram, TIME_BIN } from './measure.js'
import { withTempDir } from './temp.js'

/** Runs the archive benchmark and prints the table, details and a `BENCH_JSON` line on stdout. */
export async function archiveBench(): Promise<void> {
  await requireProgram(TIME_BIN, ['--version'], 'GNU time: apt-get install time')
  const tools = await findTools()
  for (const tool of ['rsync', 'casync', 'zstd'] as const) if (tools[tool] === undefined) log(missing(tool))
  const machine = {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    openssl: tools.openssl,
    tar: tools.tar,
  }
  const { throughput, memory, delta } = await withTempDir('ferry-bench-archive-', async (work) => {
    log(`working in ${work}`)
    const files = await writeParts(join(work, 'data'), 1, SET_FILES)
    const store = join(work, 'A')
    await ferryJson(['init', '--store', store])
    await buildHead(work, store, HEAD, files)
    const archive = join(work, 'set.car')
    const throughput = await throughputBench(work, store, files, archive)
    await rm(archive, { force: true })
    const memory = await memoryBench(work, store, files)
    await rm(join(work, 'data'), { recursive: true, force: true })
    await rm(store, { recursive: true, force: true })
    return { throughput, memory, delta: await deltaBench(work, tools) }
  })
  const out = [
    `ferry archive benchmark, ${machine.date}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ${machine.openssl}, ${machine.tar}`,
    `export: \`ferry export ${HEAD} --out set.car\` vs \`tar -cf set.tar FILES\` over ${SET_FILES} pseudo-random files of ${mib(FILE_BYTES)} MiB ` +
      `(page cache warm, output on the same disk, sync before each run); import: \`ferry import set.car\` into a fresh store trusting the sender ` +
      `vs \`openssl dgst -sha256 set.car\`; medians of ${RUNS} alternating runs (wall time incl. node start-up); ` +
      `peak RSS: GNU time %M, one export and one import of a ${mib(memory.bytes)} MiB archive`,
    ...details(throughput, memory, delta),
    '',
    resultTable(throughput, memory, delta),
    `BENCH_JSON ${JSON.stringify({ bench: 'archive', machine, runs: RUNS, goals: GOALS, throughput, memory, delta })}`,
  ]
  process.stdout.write(`${out.join('\n')}\n`)
}
