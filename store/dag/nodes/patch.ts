import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { MAX_NODE_BYTES } from '../../blocks/cid.js'
import { bytes, count, link, text } from './fields.js'
import { defineNode } from './node-type.js'

/** A range of a file: `[offset, length]`. */
export type ByteRange = [offset: number, length: number]

/**
 * Bytes the receiver already holds that a patch is made against: the ranges
 * of the file whose DAG root is `root` (an entry of a release the receiver
 * has, chosen by the sender by content), read in order and concatenated.
 */
export interface PatchBase {
  root: CID
  ranges: ByteRange[]
}

/**
 * Changed blocks carried as one patch (DESIGN.md, Delta transfer): `bytes`,
 * in format `codec`, expand with the receiver's `base` bytes into the raw
 * blocks `targets` (of `sizes` bytes), concatenated; each is verified
 * against its CID before it is stored. The patch itself is never stored.
 * Walkers follow the targets only: the base is the receiver's, never
 * fetched, exported or collected through a patch.
 */
export interface PatchNode {
  type: 'patch'
  targets: CID[]
  sizes: number[]
  base: PatchBase
  codec: string
  bytes: Uint8Array
}

/** Most bytes a base may span: windows around the matching regions, or a small entry whole. */
export const MAX_PATCH_BASE_BYTES = 64 * 1024 * 1024

/** Most bytes one patch may expand to (all its targets). */
export const MAX_PATCH_TARGET_BYTES = 16 * 1024 * 1024

/** Most targets, and most base ranges, one patch may name. */
export const MAX_PATCH_TARGETS = 1024

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)

/** Codec of patch nodes; the links are the targets, with their sizes. */
export const patchNode = defineNode<PatchNode>({
  type: 'patch',
  title: 'a patch',
  fields: v.pipe(
    v.object({
      targets: v.pipe(v.array(link), v.minLength(1, 'must name a block'), v.maxLength(MAX_PATCH_TARGETS)),
      // Checked before anything is allocated for the expansion: a block is at most a node's size.
      sizes: v.pipe(
        v.array(v.pipe(count, v.maxValue(MAX_NODE_BYTES, `must be at most ${MAX_NODE_BYTES} (a block)`))),
        v.check(
          (sizes) => sum(sizes) <= MAX_PATCH_TARGET_BYTES,
          `must add up to at most ${MAX_PATCH_TARGET_BYTES}`,
        ),
      ),
      base: v.object({
        root: link,
        ranges: v.pipe(
          v.array(v.tuple([count, count])),
          v.minLength(1, 'must name some bytes'),
          v.maxLength(MAX_PATCH_TARGETS),
          v.check(
            (ranges) => sum(ranges.map(([, length]) => length)) <= MAX_PATCH_BASE_BYTES,
            `must add up to at most ${MAX_PATCH_BASE_BYTES} bytes`,
          ),
        ),
      }),
      codec: text,
      bytes,
    }),
    v.check((patch) => patch.sizes.length === patch.targets.length, 'sizes must give one size a target'),
  ),
  sizes: (patch) => patch.targets.map((cid, i): [CID, number] => [cid, patch.sizes[i]]),
})
