import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../protocols/sync/index.js'
import type { Location, PackBlockstore } from '../../store/index.js'

/**
 * Blocks that lie close together in one pack are read with one read of up
 * to this many bytes: a read costs a thread-pool hop, and a span's buffer
 * lives until its last block is sent (see bench/history/source-notes-packs.md).
 */
const MAX_SPAN_BYTES = 1024 * 1024
/** Blocks whose gap is at most this (record headers) still share a read. */
const MAX_GAP_BYTES = 4096

/**
 * Serves wanted blocks straight from the packs: one index lookup for the
 * whole want list, then one read a run of neighbouring blocks. Bytes are not
 * re-hashed here: the receiver verifies every block anyway.
 */
export function packBlockReader(blocks: PackBlockstore): BlockReader {
  return {
    async *readMany(cids: CID[], options = {}) {
      const locations = await blocks.locateMany(cids)
      for (let start = 0; start < locations.length; ) {
        options.signal?.throwIfAborted()
        const first = locations[start]
        if (first === undefined) {
          yield undefined
          start++
          continue
        }
        const end = runEnd(locations, start)
        const last = locations[end - 1] as Location
        const span = await blocks.read({
          pack: first.pack,
          offset: first.offset,
          length: last.offset + last.length - first.offset,
        })
        for (let i = start; i < end; i++) {
          const { offset, length } = locations[i] as Location
          yield span.subarray(offset - first.offset, offset - first.offset + length)
        }
        start = end
      }
    },
  }
}

/** The end (exclusive) of the run of blocks from `start` that one read can cover. */
function runEnd(locations: Array<Location | undefined>, start: number): number {
  const first = locations[start] as Location
  let end = start + 1
  let previous = first
  while (end < locations.length) {
    const next = locations[end]
    if (next === undefined || next.pack !== first.pack) break
    const gap = next.offset - (previous.offset + previous.length)
    if (gap < 0 || gap > MAX_GAP_BYTES) break
    if (next.offset + next.length - first.offset > MAX_SPAN_BYTES) break
    previous = next
    end++
  }
  return end
}
