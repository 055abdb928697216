import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../protocols/sync/index.js'
import type { PackBlockstore } from '../store/index.js'

/**
 * Serves wanted blocks straight from the packs: one index lookup for the
 * whole want list, then a read a block. Bytes are not re-hashed here: the
 * receiver verifies every block anyway.
 */
export function packBlockReader(blocks: PackBlockstore): BlockReader {
  return {
    async *readMany(cids: CID[], options = {}) {
      const locations = await blocks.locateMany(cids)
      for (const location of locations) {
        options.signal?.throwIfAborted()
        yield location === undefined ? undefined : await blocks.read(location)
      }
    },
  }
}
