import { type BatchOp, delOp, putOp } from '../db/batch.js'
import type { StoreDb } from '../db/db.js'
import { decodeLocation, encodeLocation, type Location } from './format.js'
import { keyId } from './key-id.js'
import { type LiveCounts, tally } from './live-counts.js'

/** A block's index key (its multihash) and where its bytes are. */
export interface Placed {
  key: Uint8Array
  location: Location
}

/** An appended block on its way into the index. */
export interface Appended extends Placed {
  /**
   * Appended without the write path's index lookup (knownMissing): another
   * writer may have committed it first, so the commit looks it up. The others
   * were looked up before they were appended, and no writer appends a block
   * another holds uncommitted or committed during that lookup.
   */
  unchecked: boolean
}

/**
 * One atomic change of the index. Every change to the `blocks` sublevel goes
 * through one of these, so the per-pack live counts change in the same batch.
 */
export interface IndexChange {
  /** Blocks appended for the index; unchecked ones it has already are skipped. */
  added?: Appended[]
  /** Blocks given a new location (compaction), with the one they had. */
  moved?: Array<Placed & { from: Location }>
  /** Blocks to drop from the index; keys it does not have are skipped. */
  removed?: Uint8Array[]
}

/**
 * Adds the `blocks` operations of `change` to `ops`; returns how each pack's
 * live count changes with them. Call it on the commit chain, where no other
 * change of the index can come in between its lookups and the batch.
 */
export async function indexOps(db: StoreDb, change: IndexChange, ops: BatchOp[]): Promise<LiveCounts> {
  const deltas: LiveCounts = new Map()
  const added = change.added ?? []
  const unchecked = added.filter((entry) => entry.unchecked)
  // An unchecked block some other writer committed first keeps its first location, and is counted once.
  const present = unchecked.length === 0 ? [] : await db.blocks.hasMany(unchecked.map(({ key }) => key))
  const committedFirst = new Set(unchecked.filter((_, i) => present[i]))
  for (const entry of added) {
    if (committedFirst.has(entry)) continue
    ops.push(putOp(db.blocks, entry.key, encodeLocation(entry.location)))
    tally(deltas, entry.location, 1)
  }
  for (const { key, location, from } of change.moved ?? []) {
    ops.push(putOp(db.blocks, key, encodeLocation(location)))
    tally(deltas, from, -1)
    tally(deltas, location, 1)
  }
  const removed = [...new Map((change.removed ?? []).map((key) => [keyId(key), key])).values()]
  const values = removed.length === 0 ? [] : await db.blocks.getMany(removed)
  for (let i = 0; i < removed.length; i++) {
    const value = values[i]
    if (value === undefined) continue
    ops.push(delOp(db.blocks, removed[i]))
    tally(deltas, decodeLocation(value), -1)
  }
  return deltas
}
