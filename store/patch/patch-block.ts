import type { Block, Blockstore } from '../blocks/blockstore.js'
import { blockMatches } from '../blocks/cid.js'
import { readFile } from '../dag/file-dag.js'
import type { PatchBase, PatchNode } from '../dag/nodes/index.js'
import { FerryError, isFerryError } from '../errors.js'
import { applyPatch, makePatch, type PatchLevel, ZSTD_PATCH_CODEC } from './zstd-patch.js'

/** A patch is sent only when it is this much smaller than the block, else the block itself. */
export const PATCH_WORTH = 0.9

/**
 * The patch node that carries `block` as a delta against `reference`, the
 * bytes `base` names on the receiving side; undefined when the patch would
 * not be well below the block (PATCH_WORTH), so the block goes raw.
 */
export function patchFor(
  block: Block,
  base: PatchBase,
  reference: Uint8Array,
  options: PatchLevel = {},
): PatchNode | undefined {
  const bytes = makePatch(block.bytes, reference, options)
  if (bytes.byteLength >= block.bytes.byteLength * PATCH_WORTH) return undefined
  return {
    type: 'patch',
    target: block.cid,
    size: block.bytes.byteLength,
    base,
    codec: ZSTD_PATCH_CODEC,
    bytes,
  }
}

/** The bytes `base` names, read (verified) from a file DAG the receiver holds; ERR_NOT_FOUND when it does not. */
export async function readBase(blockstore: Blockstore, base: PatchBase): Promise<Uint8Array> {
  const out = new Uint8Array(base.length)
  let at = 0
  for await (const piece of readFile(blockstore, base.root, { offset: base.offset, length: base.length })) {
    out.set(piece, at)
    at += piece.byteLength
  }
  if (at !== base.length) {
    throw new FerryError(
      'ERR_NOT_FOUND',
      `${base.root} has ${at} bytes from ${base.offset}, not ${base.length}`,
      {
        details: { root: base.root.toString(), offset: base.offset, length: base.length },
      },
    )
  }
  return out
}

/**
 * The block a patch stands for: its base read from `blockstore`, expanded,
 * and verified against the target's CID. Every way it can fail — an unknown
 * codec, a base the receiver lacks, a frame that declares or gives another
 * size, bytes that do not hash to the target — is ERR_CORRUPT_BLOCK naming
 * the target, as a damaged block is.
 */
export async function expandPatch(blockstore: Blockstore, patch: PatchNode): Promise<Block> {
  const name = patch.target.toString()
  if (patch.codec !== ZSTD_PATCH_CODEC) {
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} has codec ${patch.codec}, this ferry reads ${ZSTD_PATCH_CODEC}`,
      {
        details: { target: name, codec: patch.codec },
      },
    )
  }
  let reference: Uint8Array
  try {
    reference = await readBase(blockstore, patch.base)
  } catch (cause) {
    if (!isFerryError(cause, 'ERR_NOT_FOUND')) throw cause
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} needs ${patch.base.root} here, which this store lacks`,
      {
        cause,
        details: { target: name, base: patch.base.root.toString() },
      },
    )
  }
  const bytes = applyPatch(patch.bytes, reference, patch.size, name)
  if (!blockMatches(patch.target, bytes)) {
    throw new FerryError('ERR_CORRUPT_BLOCK', `patch for ${name} expands to bytes that do not match it`, {
      details: { target: name },
    })
  }
  return { cid: patch.target, bytes }
}
