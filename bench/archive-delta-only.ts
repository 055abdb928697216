/*
 * `npm run bench -- archive-delta`: only the delta part of the archive bench
 * (a 256 MiB release and its upgrade with 128 scattered edits): ferry's
 * delta archive against an rsync batch and casync, without the GiB-sized
 * throughput runs.
 */
import { findTools } from './archive-common.js'
import { deltaBench } from './archive-delta.js'
import { withTempDir } from './temp.js'

export async function archiveDeltaBench(): Promise<void> {
  const tools = await findTools()
  const result = await withTempDir('ferry-bench-archive-delta-', (work) => deltaBench(work, tools))
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  const rows = [
    `release: ${result.release.description}`,
    `ferry delta archive: ${kib(result.ferry.bytes)} (${result.ferry.blocks} blocks carried, ${result.ferry.skipped} left out)`,
    `rsync batch: ${'missing' in result.rsync ? result.rsync.missing : kib(result.rsync.bytes)}`,
    `casync: ${'missing' in result.casync ? result.casync.missing : kib(result.casync.bytes)}`,
  ]
  process.stdout.write(
    `${rows.join('\n')}\nBENCH_JSON ${JSON.stringify({ bench: 'archive-delta', ...result })}\n`,
  )
}
