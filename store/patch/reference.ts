import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { fileLeaves } from '../dag/file-leaves.js'

/** A leaf (chunk) of a file DAG and where its bytes lie in the file. */
export interface LeafSpan {
  cid: CID
  offset: number
  size: number
}

/** The leaves of the file DAG at `root`, in order, with their offsets and sizes. */
export async function leafSpans(
  blockstore: Blockstore,
  root: CID,
  options: AbortOptions = {},
): Promise<LeafSpan[]> {
  const spans: LeafSpan[] = []
  for await (const leaf of fileLeaves(blockstore, root, options)) {
    // A root that is its one leaf says no size: its bytes do.
    spans.push({ ...leaf, size: leaf.size ?? (await blockstore.get(leaf.cid, options)).byteLength })
  }
  return spans
}

/** Where to look in the base for the bytes of a changed chunk. */
export interface WindowOptions {
  /**
   * Base bytes taken on each side of the aligned region: where most chunks
   * changed (a minified bundle, a tar of them, a rebuilt library) the few
   * shared ones anchor far away and offsets drift by tens of KiB between
   * them; a patch finds its matches anywhere in its window (long-distance
   * matching), so a wide margin costs little and a narrow one misses.
   * @default 128 KiB
   */
  margin?: number
  /** Most base bytes for one chunk's window. @default 1 MiB */
  maxWindow?: number
}

/**
 * For each leaf of `target` whose CID the base does not have, the window of
 * the base file to use as its reference, chosen by content: the chunks both
 * versions share (same CID, so same bytes) anchor the two files to each
 * other, and a changed chunk is looked for in the base between the shared
 * chunks around it (shifted as they are), with a margin. With no shared
 * chunk at all, the same relative position, or the whole base when it fits.
 * Returns `[target leaf index, base offset, length]` for the changed leaves.
 */
export function chooseWindows(
  target: LeafSpan[],
  base: LeafSpan[],
  options: WindowOptions = {},
): Array<[number, number, number]> {
  const margin = options.margin ?? 128 * 1024
  const maxWindow = options.maxWindow ?? 1024 * 1024
  const baseSize = base.reduce((sum, leaf) => sum + leaf.size, 0)
  const targetSize = target.reduce((sum, leaf) => sum + leaf.size, 0)
  const inBase = new Map<string, LeafSpan>()
  for (const leaf of base) if (!inBase.has(leaf.cid.toString())) inBase.set(leaf.cid.toString(), leaf)
  const shared = target.map((leaf) => inBase.get(leaf.cid.toString()))
  // The next shared chunk at or after each index, for the right-hand bound.
  const nextShared: Array<number | undefined> = new Array(target.length)
  let next: number | undefined
  for (let i = target.length - 1; i >= 0; i--) {
    if (shared[i] !== undefined) next = i
    nextShared[i] = next
  }
  const windows: Array<[number, number, number]> = []
  let previous: number | undefined
  for (let i = 0; i < target.length; i++) {
    const match = shared[i]
    if (match !== undefined) {
      previous = i
      continue
    }
    const leaf = target[i]
    const after = nextShared[i]
    let from: number
    let to: number
    if (previous !== undefined || after !== undefined) {
      // Between the shared chunks around it, as they sit in the base.
      const left = previous === undefined ? undefined : (shared[previous] as LeafSpan)
      const right = after === undefined ? undefined : (shared[after] as LeafSpan)
      from =
        left !== undefined
          ? left.offset +
            left.size +
            (leaf.offset - (target[previous as number].offset + target[previous as number].size))
          : (right as LeafSpan).offset - (target[after as number].offset - leaf.offset)
      to = from + leaf.size
      if (right !== undefined && left !== undefined)
        to = Math.max(to, Math.min(right.offset, from + leaf.size * 2))
    } else if (baseSize <= maxWindow) {
      from = 0
      to = baseSize
    } else {
      from = Math.floor((leaf.offset / Math.max(1, targetSize)) * baseSize)
      to = from + leaf.size
    }
    const start = Math.max(0, Math.min(from, to) - margin)
    const end = Math.min(baseSize, Math.max(from, to) + margin, start + maxWindow)
    if (end > start) windows.push([i, start, end - start])
  }
  return windows
}
