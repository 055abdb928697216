import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { entriesOf } from '../dag/bom-dag.js'
import type { ByteRange, Entry } from '../dag/nodes/index.js'
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

/** `module/name`: how an entry of one release finds itself in another. */
const entryKey = (entry: Entry) => `${entry.module}/${entry.name}`

/**
 * For the releases `heads`, against the releases `bases` (which the receiver
 * holds, and this store too), where each changed leaf of an entry whose
 * namesake (same module/name) is in a base is to be looked for: the base
 * window chosen by content (reference.ts). Leaves of entries new in `heads`,
 * and leaves the base has as they are, are not in it. Reads index nodes
 * only. `only`, when given, limits it to entries holding one of those leaves
 * (by CID string).
 */
export async function planReferences(
  blockstore: Blockstore,
  heads: CID[],
  bases: CID[],
  options: AbortOptions & { only?: Set<string> } = {},
): Promise<Map<string, LeafReference>> {
  const plan = new Map<string, LeafReference>()
  const baseEntries = new Map<string, Entry>()
  for (const root of bases) {
    for await (const entry of entriesOf(blockstore, root)) {
      options.signal?.throwIfAborted()
      baseEntries.set(entryKey(entry), entry)
    }
  }
  if (baseEntries.size === 0) return plan
  for (const head of heads) {
    for await (const entry of entriesOf(blockstore, head)) {
      const base = baseEntries.get(entryKey(entry))
      if (base === undefined || base.root.equals(entry.root)) continue
      const targetLeaves = await leafSpans(blockstore, entry.root, options)
      const only = options.only
      if (only !== undefined && !targetLeaves.some((leaf) => only.has(leaf.cid.toString()))) continue
      const baseLeaves = await leafSpans(blockstore, base.root, options)
      for (const [index, offset, length] of chooseWindows(targetLeaves, baseLeaves)) {
        const leaf = targetLeaves[index]
        const key = leaf.cid.toString()
        if (!plan.has(key)) plan.set(key, { base: base.root, window: [offset, length], size: leaf.size })
      }
    }
  }
  return plan
}
