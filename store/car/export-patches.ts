import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { encodeNode } from '../blocks/cid.js'
import { entriesOf } from '../dag/bom-dag.js'
import type { Entry } from '../dag/nodes/index.js'
import { type PatchLevel, patchFor, readBase } from '../patch/index.js'
import { chooseWindows, leafSpans } from '../patch/reference.js'
import type { Store } from '../store.js'

/** Blocks of an export carried as patches: the patch node block by the CID of the block it stands for. */
export type PatchedBlocks = Map<string, Block>

/** `module/name`: how an entry of one release finds itself in another. */
const entryKey = (entry: Entry) => `${entry.module}/${entry.name}`

async function entriesByKey(store: Store, root: CID, options: AbortOptions): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>()
  for await (const entry of entriesOf(store.blocks, root)) {
    options.signal?.throwIfAborted()
    out.set(entryKey(entry), entry)
  }
  return out
}

/**
 * Patches for the blocks an export carries (`wanted`, by CID string) that
 * belong to an entry whose namesake (same module/name) is in a base release
 * this store holds: each changed chunk against the base window chosen by
 * content (store/patch/reference.ts), kept only when well below the block.
 * A base release this store does not hold (an inventory of the site's
 * only) gives no patches: its blocks go raw.
 */
export async function planPatches(
  store: Store,
  heads: CID[],
  bases: CID[],
  wanted: Set<string>,
  options: AbortOptions & PatchLevel = {},
): Promise<PatchedBlocks> {
  const patched: PatchedBlocks = new Map()
  const baseEntries = new Map<string, Entry>()
  for (const root of bases) {
    if (!(await store.completeness.isComplete(root, options))) continue
    for (const [key, entry] of await entriesByKey(store, root, options)) baseEntries.set(key, entry)
  }
  if (baseEntries.size === 0) return patched
  for (const head of heads) {
    for await (const entry of entriesOf(store.blocks, head)) {
      const base = baseEntries.get(entryKey(entry))
      if (base === undefined || base.root.equals(entry.root)) continue
      const targetLeaves = await leafSpans(store.blocks, entry.root, options)
      if (!targetLeaves.some((leaf) => wanted.has(leaf.cid.toString()))) continue
      const baseLeaves = await leafSpans(store.blocks, base.root, options)
      for (const [index, offset, length] of chooseWindows(targetLeaves, baseLeaves)) {
        options.signal?.throwIfAborted()
        const leaf = targetLeaves[index]
        const key = leaf.cid.toString()
        if (!wanted.has(key) || patched.has(key)) continue
        const bytes = await store.blocks.get(leaf.cid, options)
        const window = { root: base.root, offset, length }
        const patch = patchFor(
          { cid: leaf.cid, bytes },
          window,
          await readBase(store.blocks, window),
          options,
        )
        if (patch !== undefined) patched.set(key, encodeNode(patch))
      }
    }
  }
  return patched
}
