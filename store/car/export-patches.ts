import type { CID } from 'multiformats/cid'
import pLimit from 'p-limit'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { encodeNode } from '../blocks/cid.js'
import { FileNodeCache } from '../dag/file-node-cache.js'
import { batchPatches } from '../patch/batch.js'
import { dropped } from '../patch/collect.js'
import { makeBatchPatch } from '../patch/make.js'
import { planReferences } from '../patch/plan.js'
import type { Store } from '../store.js'

const concatenated = (blocks: Block[]) => blocks.reduce((sum, block) => sum + block.bytes.byteLength, 0)

/** A patch an export carries: the patch node's block, and how many blocks it stands for. */
export interface PlannedPatch {
  block: Block
  covers: number
}

/** Patches of an export, by the index in its blocks of the first block each stands for. */
export type PatchedBlocks = Map<number, PlannedPatch>

/**
 * Patches for the blocks an export carries (`wanted`, in the order they are
 * written) that belong to an entry whose namesake (same module/name) is in a
 * base release this store holds: runs of changed chunks against the base
 * windows chosen by content (store/patch/), made on the patch threads, each
 * kept only when well below its blocks. A base release this store does not
 * hold (an inventory of the site's only) gives no patches: its blocks go raw.
 */
export async function planPatches(
  store: Store,
  heads: CID[],
  bases: CID[],
  wanted: ReadonlyArray<{ cid: CID }>,
  options: AbortOptions & { level?: number } = {},
): Promise<PatchedBlocks> {
  const patched: PatchedBlocks = new Map()
  const held: CID[] = []
  for (const root of bases) if (await store.completeness.isComplete(root, options)) held.push(root)
  if (held.length === 0) return patched
  const only = new Set(wanted.map((item) => item.cid.toString()))
  const references = await planReferences(store.blocks, heads, held, { ...options, only })
  const pool = store.pipeline.patchPool
  const nodes = new FileNodeCache(8)
  const limit = pLimit(pool.threads * 2)
  await Promise.all(
    batchPatches(wanted, references).map((batch) =>
      limit(async () => {
        // One index lookup and coalesced reads for the batch's blocks (neighbours in the packs).
        const blocks: Block[] = []
        const cids = wanted.slice(batch.start, batch.end).map((item) => item.cid)
        for await (const block of store.blocks.getMany(cids, options)) blocks.push(block)
        const patch = await makeBatchPatch(store.blocks, batch, blocks, { ...options, pool, nodes })
        // Its blocks, their concatenation and the base it read: dropped, unless kept as they are.
        dropped(batch.ranges.reduce((sum, [, length]) => sum + length, 2 * concatenated(blocks)))
        if (patch !== undefined) patched.set(batch.start, { block: encodeNode(patch), covers: blocks.length })
      }),
    ),
  )
  return patched
}
