import type { Block, Blockstore } from '../blocks/blockstore.js'
import type { PatchNode } from '../dag/nodes/index.js'
import type { PatchBatch } from './batch.js'
import { concatBlocks, patchNodeFor, type ReadBaseOptions, readBase } from './patch-block.js'
import type { PatchPool } from './pool.js'

/** What making patches needs: the level and the threads. */
export interface MakePatchOptions extends ReadBaseOptions {
  /** zstd level. @default 3 */
  level?: number
  /** The threads that compress. */
  pool: PatchPool
}

/**
 * The patch carrying `blocks` (the items of `batch`, in order) against the
 * base ranges the batch names, made on the pool's threads; undefined when it
 * is not worth sending instead of the blocks.
 */
export async function makeBatchPatch(
  blockstore: Blockstore,
  batch: PatchBatch,
  blocks: Block[],
  options: MakePatchOptions,
): Promise<PatchNode | undefined> {
  const base = { root: batch.base, ranges: batch.ranges }
  const reference = await readBase(blockstore, base, options)
  // Both are moved to the thread: a target of one block is copied first (the caller keeps its bytes).
  const target = blocks.length === 1 ? new Uint8Array(blocks[0].bytes) : concatBlocks(blocks)
  const bytes = await options.pool.make(target, reference, options.level ?? 3, options.signal)
  return patchNodeFor(blocks, base, bytes)
}
