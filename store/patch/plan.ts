import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
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
        if (base === undefined || base.equals(file.root)) continue
        const targetLeaves = await leafSpans(blockstore, file.root, options)
        const only = options.only
        if (only !== undefined && !targetLeaves.some((leaf) => only.has(leaf.cid.toString()))) continue
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
