/*
 * Benchmarks that compare ferry with the tools a user would use instead.
 * Usage: npm run bench -- NAME [ARGS]   (node dist/bench/main.js NAME [ARGS])
 */
import { archiveBench } from './archive.js'
import { archiveDeltaBench } from './archive-delta-only.js'
import { compressedBench } from './compressed.js'
import { deltaBench } from './delta.js'
import { downloadBench } from './download.js'
import { faultsBench } from './faults.js'
import { fuzzBench } from './faults-fuzz.js'
import { ingestBench } from './ingest.js'
import { ingestAbBench } from './ingest-ab.js'
import { patchSpeedBench } from './patch-speed.js'
import { profileTopBench } from './profile-top.js'
import { scenarioBench } from './scenario.js'
import { serveBench } from './serve.js'
import { statusBench } from './status.js'
import { syncBench } from './sync.js'
import { syncAbBench } from './sync-ab.js'

const benches: Record<string, () => Promise<void>> = {
  archive: archiveBench,
  'archive-delta': archiveDeltaBench,
  compressed: compressedBench,
  delta: deltaBench,
  download: downloadBench,
  faults: faultsBench,
  fuzz: fuzzBench,
  ingest: ingestBench,
  'ingest-ab': ingestAbBench,
  'patch-speed': patchSpeedBench,
  'profile-top': profileTopBench,
  scenario: scenarioBench,
  sync: syncBench,
  'sync-ab': syncAbBench,
  serve: serveBench,
  status: statusBench,
}

const name = process.argv[2]
const bench = name === undefined ? undefined : benches[name]
if (bench === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}>\n`)
  process.exitCode = 2
} else {
  try {
    await bench()
  } catch (err) {
    process.stderr.write(`bench ${name}: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}
