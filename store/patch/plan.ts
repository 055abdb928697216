import { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { RAW } from '../blocks/cid.js'
import { entriesOf } from '../dag/bom-dag.js'
import type { ByteRange } from '../dag/nodes/index.js'
import { entryFiles } from './entry-files.js'
import { chooseWindows, leafSpans } from './reference.js'

/** Where one changed leaf of a new release is looked for in the old one. */
export interface LeafReference {
  /** The file DAG root of the same-name entry in a base release (the receiver holds it). */
  base: CID
  /** The window of that file chosen for this leaf, by content. */
  window: ByteRange
  /** The leaf's size. */
  size: number
}

/**
 * For the releases `heads`, against the releases `bases` (which the receiver
 * holds, and this store too), where each changed leaf of a file whose
 * namesake is in a base (same entry `module/name`; for an image, the same
 * manifest or blob place: entry-files.ts) is to be looked for: the base
 * window chosen by content (reference.ts). Leaves of files new in `heads`,
 * and leaves the base has as they are, are not in it. Reads index nodes
 * only. `only`, when given, limits it to files holding one of those leaves
 * (by CID string).
 */
export async function planReferences(
  blockstore: Blockstore,
  heads: CID[],
  bases: CID[],
  options: AbortOptions & { only?: Set<string> } = {},
): Promise<Map<string, LeafReference>> {
  const plan = new Map<string, LeafReference>()
  const baseFiles = new Map<string, CID>()
  for (const root of bases) {
    for await (const entry of entriesOf(blockstore, root)) {
      options.signal?.throwIfAborted()
      for (const file of entryFiles(entry)) baseFiles.set(file.key, file.root)
    }
  }
  if (baseFiles.size === 0) return plan
  for (const head of heads) {
    for await (const entry of entriesOf(blockstore, head)) {
      for (const file of entryFiles(entry)) {
        const base = baseFiles.get(file.key)
        // (Compared as strings: CID.equals narrows its argument away.)
        const root: CID = file.root
        if (base === undefined || base.toString() === root.toString()) continue
        const targetLeaves = await leafSpans(blockstore, root, options)
        const only = options.only
        const wanted = (cid: CID): boolean => only === undefined || only.has(cid.toString())
        if (!wanted(root) && !targetLeaves.some((leaf) => wanted(leaf.cid))) continue
        if (wanted(root) && !plan.has(root.toString())) {
          const reference = await indexReference(blockstore, root, base, options)
          if (reference !== undefined) plan.set(root.toString(), reference)
        }
        const baseLeaves = await leafSpans(blockstore, base, options)
        for (const [index, offset, length] of chooseWindows(targetLeaves, baseLeaves)) {
          const leaf = targetLeaves[index]
          const key = leaf.cid.toString()
          if (!plan.has(key)) plan.set(key, { base, window: [offset, length], size: leaf.size })
        }
      }
    }
  }
  return plan
}

/**
 * The reference of a changed file's index node (its list of chunk CIDs and
 * sizes, mostly the same as the old one's, in the same order): the old
 * file's index node whole. Its bytes are named by a raw CID of the same
 * multihash (blocks are stored by multihash), so the patch's base reads as
 * a file of one leaf. Undefined when either file is a single leaf.
 */
async function indexReference(
  blockstore: Blockstore,
  target: CID,
  base: CID,
  options: AbortOptions,
): Promise<LeafReference | undefined> {
  if (target.code === RAW || base.code === RAW) return undefined
  const [targetBytes, baseBytes] = await Promise.all([
    blockstore.get(target, options),
    blockstore.get(base, options),
  ])
  return {
    base: CID.createV1(RAW, base.multihash),
    window: [0, baseBytes.byteLength],
    size: targetBytes.byteLength,
  }
}
