import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { MAX_NODE_BYTES } from '../../blocks/cid.js'
import { bytes, count, link, text } from './fields.js'
import { defineNode } from './node-type.js'

/**
 * Bytes the receiver already holds that a patch is made against: the range
 * `[offset, offset + length)` of the file whose DAG root is `root` (an entry
 * of a release the receiver has, chosen by the sender by content).
 */
export interface PatchBase {
  root: CID
  offset: number
  length: number
}

/**
 * A changed block carried as a patch (DESIGN.md, Delta transfer): `bytes`,
 * in format `codec`, expand with the receiver's `base` bytes into the raw
 * block `target` of `size` bytes, which is verified against its CID before
 * it is stored. The patch itself is never stored. Walkers follow `target`
 * only: the base is the receiver's, never fetched, exported or collected
 * through a patch.
 */
export interface PatchNode {
  type: 'patch'
  target: CID
  size: number
  base: PatchBase
  codec: string
  bytes: Uint8Array
}

/** Most bytes a base may span: a window around the matching region, or a small entry whole. */
export const MAX_PATCH_BASE_BYTES = 64 * 1024 * 1024

/** Codec of patch nodes; the one link is the target, with its size. */
export const patchNode = defineNode<PatchNode>({
  type: 'patch',
  title: 'a patch',
  fields: v.object({
    target: link,
    // Checked before anything is allocated for the expansion: a block is at most a node's size.
    size: v.pipe(count, v.maxValue(MAX_NODE_BYTES, `must be at most ${MAX_NODE_BYTES} (a block)`)),
    base: v.object({
      root: link,
      offset: count,
      length: v.pipe(count, v.maxValue(MAX_PATCH_BASE_BYTES, `must be at most ${MAX_PATCH_BASE_BYTES}`)),
    }),
    codec: text,
    bytes,
  }),
  sizes: (patch) => [[patch.target, patch.size]],
})
