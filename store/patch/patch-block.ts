import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block, Blockstore } from '../blocks/blockstore.js'
import { blockMatches } from '../blocks/cid.js'
import { fileLeaves } from '../dag/file-leaves.js'
import { FileNodeCache } from '../dag/file-node-cache.js'
import type { PatchBase, PatchNode } from '../dag/nodes/index.js'
import { FerryError, isFerryError } from '../errors.js'
import { applyPatch, ZSTD_PATCH_CODEC } from './zstd-patch.js'

/** A patch is sent only when it is this much smaller than its blocks, else the blocks themselves. */
export const PATCH_WORTH = 0.9

/** The bytes of `blocks`, one after the other: what a patch of them expands to. */
export function concatBlocks(blocks: Block[]): Uint8Array {
  if (blocks.length === 1) return blocks[0].bytes
  const out = new Uint8Array(blocks.reduce((sum, block) => sum + block.bytes.byteLength, 0))
  let at = 0
  for (const block of blocks) {
    out.set(block.bytes, at)
    at += block.bytes.byteLength
  }
  return out
}

/**
 * The patch node that carries `blocks` as `bytes` (a delta made against the
 * bytes `base` names on the receiving side); undefined when the delta would
 * not be well below the blocks (PATCH_WORTH), so they go raw.
 */
export function patchNodeFor(blocks: Block[], base: PatchBase, bytes: Uint8Array): PatchNode | undefined {
  const size = blocks.reduce((sum, block) => sum + block.bytes.byteLength, 0)
  if (bytes.byteLength >= size * PATCH_WORTH) return undefined
  return {
    type: 'patch',
    targets: blocks.map((block) => block.cid),
    sizes: blocks.map((block) => block.bytes.byteLength),
    base,
    codec: ZSTD_PATCH_CODEC,
    bytes,
  }
}

/** How base bytes are read: the file index nodes decoded so far, shared by the reads of one import, export or sync. */
export interface ReadBaseOptions extends AbortOptions {
  /** @default a cache of this read's own */
  nodes?: FileNodeCache
}

/**
 * The bytes `base` names, from a file DAG this store holds; ERR_NOT_FOUND
 * when it does not hold them all. Index nodes are verified as they are
 * decoded (once per `options.nodes`); leaves are not re-hashed: what they
 * expand to is verified against its CID.
 */
export async function readBase(
  blockstore: Blockstore,
  base: PatchBase,
  options: ReadBaseOptions = {},
): Promise<Uint8Array> {
  const out = new Uint8Array(base.ranges.reduce((sum, [, length]) => sum + length, 0))
  const nodes = options.nodes ?? new FileNodeCache(4)
  let at = 0
  for (const [offset, length] of base.ranges) {
    options.signal?.throwIfAborted()
    const end = offset + length
    let got = 0
    const leaves: Array<{ offset: number; cid: CID }> = []
    for await (const leaf of fileLeaves(blockstore, base.root, { ...options, nodes, start: offset, end }))
      leaves.push(leaf)
    let index = 0
    for await (const { bytes } of blockstore.getMany(
      leaves.map((leaf) => leaf.cid),
      options,
    )) {
      const leaf = leaves[index++]
      const from = Math.max(0, offset - leaf.offset)
      const to = Math.min(bytes.byteLength, end - leaf.offset)
      if (to <= from) continue
      out.set(bytes.subarray(from, to), at + got)
      got += to - from
    }
    if (got !== length) {
      throw new FerryError('ERR_NOT_FOUND', `${base.root} has ${got} bytes from ${offset}, not ${length}`, {
        details: { root: base.root.toString(), offset, length },
      })
    }
    at += length
  }
  return out
}

/**
 * The blocks a patch stands for: its base read from `blockstore`, expanded,
 * each verified against its CID. Every way it can fail — an unknown codec, a
 * base the receiver lacks, a frame that declares or gives another size,
 * bytes that do not hash to a target — is ERR_CORRUPT_BLOCK naming the
 * (first) target, as a damaged block is.
 */
export async function expandPatch(
  blockstore: Blockstore,
  patch: PatchNode,
  options: ReadBaseOptions = {},
): Promise<Block[]> {
  const name = `${patch.targets[0]}${patch.targets.length > 1 ? ` (and ${patch.targets.length - 1} more)` : ''}`
  if (patch.codec !== ZSTD_PATCH_CODEC) {
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} has codec ${patch.codec}, this ferry reads ${ZSTD_PATCH_CODEC}`,
      { details: { target: patch.targets[0].toString(), codec: patch.codec } },
    )
  }
  let reference: Uint8Array
  try {
    reference = await readBase(blockstore, patch.base, options)
  } catch (cause) {
    if (!isFerryError(cause, 'ERR_NOT_FOUND')) throw cause
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} needs ${patch.base.root} here, which this store lacks`,
      { cause, details: { target: patch.targets[0].toString(), base: patch.base.root.toString() } },
    )
  }
  const size = patch.sizes.reduce((sum, n) => sum + n, 0)
  const bytes = applyPatch(patch.bytes, reference, size, name)
  const blocks: Block[] = []
  let at = 0
  for (const [i, cid] of patch.targets.entries()) {
    const block = { cid, bytes: bytes.subarray(at, at + patch.sizes[i]) }
    at += patch.sizes[i]
    if (!blockMatches(cid, block.bytes)) {
      throw new FerryError('ERR_CORRUPT_BLOCK', `patch for ${cid} expands to bytes that do not match it`, {
        details: { target: cid.toString() },
      })
    }
    blocks.push(block)
  }
  return blocks
}
