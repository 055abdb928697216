/*
 * `npm run bench -- archive-delta`: only the delta part of the archive bench
 * (a 256 MiB release and its upgrade with 128 scattered edits): ferry's
 * delta archive against an rsync batch and casync, without the GiB-sized
 * throughput runs.
 */
import { findTools, kib } from './archive-common.js'
import { deltaBench } from './archive-delta.js'
import { withTempDir } from './temp.js'

export async function archiveDeltaBench(): Promise<void> {
  const tools = await findTools()
  const result = await withTempDir('ferry-bench-archive-delta-', (work) => deltaBench(work, tools))
  const rows = [
    `release: ${result.release.description}`,
    `ferry delta archive: ${kib(result.ferry.bytes)} KiB (${result.ferry.blocks} blocks carried, ${result.ferry.patched ?? 0} of them as patches of ${kib(result.ferry.patchBytes ?? 0)} KiB; ${result.ferry.skipped} left out)`,
    `ferry delta archive with --no-patches: ${kib(result.ferry.chunksOnlyBytes ?? Number.NaN)} KiB`,
    `ferry export --base (v2: ${(result.release.v2Bytes / 2 ** 20).toFixed(0)} MiB): ${result.ferry.exportSeconds?.toFixed(2)} s, ` +
      `${(result.release.v2Bytes / 2 ** 20 / (result.ferry.exportSeconds ?? Number.NaN)).toFixed(0)} MiB/s of target bytes; its import: ${result.ferry.importSeconds?.toFixed(2)} s`,
    `rsync batch: ${'missing' in result.rsync ? result.rsync.missing : `${kib(result.rsync.bytes)} KiB`}`,
    `casync: ${'missing' in result.casync ? result.casync.missing : `${kib(result.casync.bytes)} KiB`}`,
  ]
  process.stdout.write(
    `${rows.join('\n')}\nBENCH_JSON ${JSON.stringify({ bench: 'archive-delta', ...result })}\n`,
  )
}
