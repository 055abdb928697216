/*
 * The delta benchmark (issue 16's baseline): for real upgrade pairs (npm
 * packages and Debian libraries, as deterministic tars and their biggest
 * file raw) and a synthetic one, the bytes that ferry moves today (its delta
 * archive, its sync on the wire, its new chunks) against rsync, `zstd
 * --patch-from` and xdelta3. Usage:
 *   npm run bench -- delta            prepare what the cache lacks, then measure
 *   npm run bench -- delta prepare    only prepare the cache (needs the registries)
 * BENCH_DELTA_CACHE names the cache folder; BENCH_DELTA_LEVEL sets the archives' --delta-level. Everything
 * measured runs on 127.0.0.1.
 */
import { join } from 'node:path'
import { type DeltaPair, deltaCache, preparePairs } from './delta-data.js'
import { measurePair, type PairResult } from './delta-pair.js'
import { report } from './delta-report.js'
import { machineFacts, requireProgram } from './measure.js'
import { withTempDir } from './temp.js'

/** One line of progress on stderr. */
function log(message: string): void {
  process.stderr.write(`bench delta: ${message}\n`)
}

/** The programs the benchmark runs, with the Debian package that brings each. */
const PROGRAMS: Array<[string, string[], string]> = [
  ['zstd', ['--version'], 'apt-get install zstd'],
  ['xdelta3', ['-V'], 'apt-get install xdelta3'],
  ['rsync', ['--version'], 'apt-get install rsync'],
  ['tar', ['--version'], 'apt-get install tar'],
]

/** The first line of each program's version, checked before anything is measured. */
async function programVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = {}
  for (const [name, args, hint] of PROGRAMS) {
    versions[name] = (await requireProgram(name, args, hint)).split('\n')[0]
  }
  return versions
}

/** Measures every pair, one after the other, each in its own folder below `work`. */
async function measureAll(work: string, pairs: DeltaPair[]): Promise<PairResult[]> {
  const results: PairResult[] = []
  for (const [index, pair] of pairs.entries()) {
    log(`pair ${index + 1}/${pairs.length}: ${pair.name}`)
    results.push(await measurePair(join(work, `pair-${index + 1}`), pair, log))
  }
  return results
}

/** `npm run bench -- delta [prepare]`. */
export async function deltaBench(): Promise<void> {
  const cache = deltaCache()
  const pairs = await preparePairs(cache, log)
  if (process.argv[3] === 'prepare') {
    for (const pair of pairs) process.stdout.write(`${pair.name}: ${pair.old} → ${pair.new}\n`)
    return
  }
  const programs = await programVersions()
  const started = Date.now()
  const results = await withTempDir('ferry-bench-delta-', (work) => measureAll(work, pairs))
  process.stdout.write(report(results, cache))
  const machine = { ...machineFacts(), seconds: Math.round((Date.now() - started) / 1000), programs }
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'delta', machine, results })}\n`)
}
