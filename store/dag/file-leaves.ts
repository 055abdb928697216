import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { RAW } from '../blocks/cid.js'
import { FileNodeCache } from './file-node-cache.js'

/** A leaf (chunk) of a file DAG: its CID, where its bytes start in the file, and their length (unknown for a root that is its one leaf). */
export interface FileLeaf {
  cid: CID
  offset: number
  size?: number
}

export interface FileLeavesOptions extends AbortOptions {
  /** Only leaves overlapping `[start, end)`. @default the whole file */
  start?: number
  end?: number
  /** Decoded index nodes shared with other walks. @default a cache of this walk's own */
  nodes?: FileNodeCache
}

/**
 * The leaves of the file DAG at `root`, in order, with their offsets: the one
 * walk of a file's index that the verified reader and the patch planner
 * share. Index nodes are verified and decoded through `nodes`; leaves are
 * not read.
 */
export async function* fileLeaves(
  blockstore: Blockstore,
  root: CID,
  options: FileLeavesOptions = {},
): AsyncGenerator<FileLeaf> {
  const start = options.start ?? 0
  const end = options.end ?? Number.POSITIVE_INFINITY
  if (root.code === RAW) {
    yield { cid: root, offset: 0 }
    return
  }
  const nodes = options.nodes ?? new FileNodeCache(4)
  async function* walk(cid: CID, base: number): AsyncGenerator<FileLeaf> {
    options.signal?.throwIfAborted()
    let offset = base
    for (const [child, size] of (await nodes.get(blockstore, cid, options)).links) {
      if (offset >= end) break
      if (offset + size > start) {
        if (child.code === RAW) yield { cid: child, offset, size }
        else yield* walk(child, offset)
      }
      offset += size
    }
  }
  yield* walk(root, 0)
}
