/**
 * Patch blocks (DESIGN.md, Delta transfer): changed blocks carried as a zstd
 * delta against bytes the receiver already holds, expanded and verified
 * against their CIDs on arrival, never stored as such. reference.ts and
 * plan.ts choose where in the old release to look, batch.ts groups changed
 * neighbours into one patch, make.ts makes it on pool.ts's threads.
 */
export { type BatchLimits, batchPatches, mergeRanges, type PatchBatch } from './batch.js'
export { frameContentSize } from './frame.js'
export { type MakePatchOptions, makeBatchPatch } from './make.js'
export {
  concatBlocks,
  expandPatch,
  PATCH_WORTH,
  patchNodeFor,
  type ReadBaseOptions,
  readBase,
} from './patch-block.js'
export { type LeafReference, planReferences } from './plan.js'
export { PatchPool, type PatchPoolInit } from './pool.js'
export { applyPatch, makePatch, type PatchLevel, ZSTD_PATCH_CODEC } from './zstd-patch.js'
