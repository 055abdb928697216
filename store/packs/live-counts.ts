import type { AbortOptions } from '../blocks/blockstore.js'
import { type BatchOp, delOp, putOp, writeBatch } from '../db/batch.js'
import type { LiveCount, StoreDb } from '../db/db.js'
import type { Location } from './format.js'
import { type PackFiles, packKey } from './pack-files.js'

/** Per-pack figures, for status and for gc's choice of packs to rewrite. */
export interface PackUsage {
  pack: number
  fileBytes: number
  liveBytes: number
  liveBlocks: number
}

/** Counts per pack, as kept in memory or as a change to them. */
export type LiveCounts = Map<number, LiveCount>

/** Adds a block at `location` to (sign 1) or takes it from (-1) `counts`. */
export function tally(counts: LiveCounts, location: Location, sign: 1 | -1): void {
  const count = counts.get(location.pack) ?? { blocks: 0, bytes: 0 }
  count.blocks += sign
  count.bytes += sign * location.length
  counts.set(location.pack, count)
}

/**
 * The live blocks and bytes of every pack, as committed: kept in `db.live`
 * in the same batches that change the `blocks` sublevel, so that status and
 * gc need no walk of the index.
 */
export class LiveCounter {
  private readonly counts: LiveCounts = new Map()

  constructor(private readonly db: StoreDb) {}

  /** Reads the kept counts. */
  async load(): Promise<void> {
    for await (const [key, count] of this.db.live.iterator()) this.counts.set(Number.parseInt(key, 16), count)
  }

  /**
   * Adds (sign 1) or takes back (-1) `deltas`; returns the operations that
   * record the packs' new counts.
   */
  apply(deltas: LiveCounts, sign: 1 | -1): BatchOp[] {
    const ops: BatchOp[] = []
    for (const [pack, delta] of deltas) {
      const live = this.counts.get(pack) ?? { blocks: 0, bytes: 0 }
      const count = { blocks: live.blocks + sign * delta.blocks, bytes: live.bytes + sign * delta.bytes }
      this.counts.set(pack, count)
      ops.push(putOp(this.db.live, packKey(pack), count))
    }
    return ops
  }

  /** Forgets a pack's count (the pack is gone, and its entries in the index with it). */
  forget(pack: number): void {
    this.counts.delete(pack)
  }

  /** Replaces every kept count, in the index and here, with `counted` (from a walk of the index). */
  async replace(counted: LiveCounts): Promise<void> {
    const ops: BatchOp[] = []
    for await (const key of this.db.live.keys()) ops.push(delOp(this.db.live, key))
    for (const [pack, count] of counted) ops.push(putOp(this.db.live, packKey(pack), count))
    await writeBatch(this.db.root, ops)
    this.counts.clear()
    for (const [pack, count] of counted) this.counts.set(pack, count)
  }

  /** Live and file bytes per open pack: from the kept counts, not a walk of the index. */
  async usage(files: PackFiles, options?: AbortOptions): Promise<PackUsage[]> {
    const usage: PackUsage[] = []
    for (const pack of files.packs()) {
      options?.signal?.throwIfAborted()
      const live = this.counts.get(pack)
      usage.push({
        pack,
        fileBytes: await files.size(pack),
        liveBytes: live?.bytes ?? 0,
        liveBlocks: live?.blocks ?? 0,
      })
    }
    return usage.sort((a, b) => a.pack - b.pack)
  }
}
