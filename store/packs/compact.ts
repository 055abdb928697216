import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '../blocks/blockstore.js'
import { delOp, writeBatch } from '../db/batch.js'
import type { StoreDb } from '../db/db.js'
import type { PackAppender } from './appender.js'
import type { Committer } from './commit.js'
import type { Location } from './format.js'
import type { Placed } from './index-change.js'
import type { LiveCounter } from './live-counts.js'
import { type PackFiles, packKey } from './pack-files.js'

/** What compaction works with. */
export interface CompactParts {
  db: StoreDb
  files: PackFiles
  appender: PackAppender
  committer: Committer
  live: LiveCounter
  /** Commit the moved blocks every this many bytes. */
  flushBytes: number
  /** Every stored block with its location. */
  entries(options?: AbortOptions): AsyncIterable<{ cid: CID; location: Location }>
}

export interface CompactOptions extends AbortOptions {
  /** Rewrite packs whose live bytes are less than this share of their size. @default 0.5 */
  minLiveRatio?: number
}

/**
 * Rewrites packs whose live share is below `minLiveRatio` (gc's last step):
 * copies their live blocks to the active pack, commits the new locations,
 * then deletes the old files. Returns the packs removed and bytes reclaimed.
 */
export async function compact(
  parts: CompactParts,
  options: CompactOptions = {},
): Promise<{ packsRemoved: number; bytesFreed: number }> {
  const { db, files, appender, committer, live } = parts
  const minLiveRatio = options.minLiveRatio ?? 0.5
  const victims = new Set(
    (await live.usage(files, options))
      .filter((u) => u.pack !== appender.activePack && u.liveBytes < u.fileBytes * minLiveRatio)
      .map((u) => u.pack),
  )
  if (victims.size === 0) return { packsRemoved: 0, bytesFreed: 0 }
  let moved: Array<Placed & { from: Location }> = []
  let movedBytes = 0
  for await (const { cid, location } of parts.entries(options)) {
    if (!victims.has(location.pack)) continue
    const bytes = await files.read(location)
    const [{ key, location: to }] = await appender.append([{ cid, bytes }])
    moved.push({ key, location: to, from: location })
    movedBytes += bytes.byteLength
    if (movedBytes >= parts.flushBytes) {
      await committer.commit({ moved })
      moved = []
      movedBytes = 0
    }
  }
  await committer.commit({ moved })
  let bytesFreed = 0
  for (const pack of victims) {
    bytesFreed += await files.size(pack)
    // Nothing lives there any more: every block was moved.
    await writeBatch(db.root, [delOp(db.packs, packKey(pack)), delOp(db.live, packKey(pack))])
    live.forget(pack)
    await files.remove(pack)
  }
  return { packsRemoved: victims.size, bytesFreed }
}
