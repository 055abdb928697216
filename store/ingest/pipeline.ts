import { MAX_NODE_BYTES } from '../blocks/cid.js'
import { MAX_CHUNK } from '../chunk/chunker.js'
import { FileNodeCache } from '../dag/file-node-cache.js'
import type { PackBlockstore } from '../packs/pack-blockstore.js'
import { ReadBudget } from '../packs/read-budget.js'
import { PatchPool } from '../patch/pool.js'
import { ArenaPool, READ_BYTES } from './arena.js'
import { Hasher } from './hasher.js'

/**
 * What ingest and import need: where blocks go, the hashing threads, and
 * the read arenas. A Store owns one; tests may build their own.
 */
export interface PipelineComponents {
  blockstore: PackBlockstore
  hasher: Hasher
  /** Read arenas for ingesting files: a slot's front holds an uncut chunk. */
  ingestArenas: ArenaPool
  /**
   * Read arenas for ingesting streams (downloads): like ingestArenas with
   * smaller reads, since several downloads run at once, each holding one.
   */
  streamArenas: ArenaPool
  /** Read arenas for archive import: a slot's front holds a partial section (up to a 1 MiB block). */
  importArenas: ArenaPool
  /** Receive arenas for online sync: blocks from the wire until appended (protocols/sync). */
  syncArenas: ArenaPool
  /**
   * Verified reads in flight over every reader that takes part (the serving
   * port's responses): READ_BUDGET_RUNS runs of up to 1 MiB.
   */
  readBudget: ReadBudget
  /** Decoded file nodes shared by verified readers (many clients of one image walk the same nodes). */
  fileNodes: FileNodeCache
  /** The threads that make patches (export --base, and sync answers): idle threads exit. */
  patchPool: PatchPool
}

/**
 * Runs that verified readers may hold at once, in all: ~16 MiB however many
 * clients are served, enough for a few streams to keep both hashing threads busy.
 */
export const READ_BUDGET_RUNS = 16

/**
 * Slots per arena: the hashing window (3), the slot being parsed and the
 * one being read, and one to spare. Slots held by the writer are released
 * as soon as it appends (it appends eagerly), and the producer drains its
 * window before it waits for a slot, so this cannot deadlock; more slots
 * only let the reader run further ahead of a slow disk.
 */
export const ARENA_SLOTS = 6

/**
 * Sync receive arenas: slots of 1 MiB (the largest block a peer may send),
 * 12 MiB in all, what a fetch may hold between the wire and the packs; when
 * they are full, reading stops and the peers' windows close.
 */
export const SYNC_ARENA_SLOTS = 12

/**
 * Bytes a stream ingest reads into a slot: a quarter of a file read, so
 * that four downloads at once (`--jobs 4`) hold what one file ingest holds.
 */
export const STREAM_READ_BYTES = 1024 * 1024

export function createPipeline(blockstore: PackBlockstore): PipelineComponents {
  const hasher = new Hasher()
  // The hashing threads are told of dropped arenas (a refused read left slots held), or they keep them alive.
  return {
    blockstore,
    hasher,
    ingestArenas: new ArenaPool(ARENA_SLOTS, MAX_CHUNK, READ_BYTES, hasher),
    streamArenas: new ArenaPool(ARENA_SLOTS, MAX_CHUNK, STREAM_READ_BYTES, hasher),
    importArenas: new ArenaPool(ARENA_SLOTS, MAX_NODE_BYTES + 4096, READ_BYTES, hasher),
    syncArenas: new ArenaPool(SYNC_ARENA_SLOTS, 0, MAX_NODE_BYTES, hasher),
    readBudget: new ReadBudget(READ_BUDGET_RUNS),
    fileNodes: new FileNodeCache(),
    patchPool: new PatchPool(),
  }
}
