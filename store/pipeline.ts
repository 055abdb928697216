import { ArenaPool } from './arena.js'
import { Hasher } from './hasher.js'
import type { PackBlockstore } from './pack-blockstore.js'

/**
 * What ingest and import need: where blocks go, the hashing threads, and
 * the read arenas. A Store owns one; tests may build their own.
 */
export interface PipelineComponents {
  blockstore: PackBlockstore
  hasher: Hasher
  arenas: ArenaPool
}

/**
 * Slots per arena: the hashing window (3), the writer's group being gathered
 * and the one being appended, and the slots being read and parsed; the
 * producer also drains its window before it waits for a slot.
 */
export const ARENA_SLOTS = 12

export function createPipeline(blockstore: PackBlockstore): PipelineComponents {
  return { blockstore, hasher: new Hasher(), arenas: new ArenaPool(ARENA_SLOTS) }
}
