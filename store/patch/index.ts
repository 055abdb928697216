/**
 * Patch blocks (DESIGN.md, Delta transfer): a changed block carried as a
 * zstd delta against bytes the receiver already holds, expanded and
 * verified against its CID on arrival, never stored as such.
 */
export { frameContentSize } from './frame.js'
export { expandPatch, PATCH_WORTH, patchFor, readBase } from './patch-block.js'
export { applyPatch, makePatch, type PatchLevel, ZSTD_PATCH_CODEC } from './zstd-patch.js'
