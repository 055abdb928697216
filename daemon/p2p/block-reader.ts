import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../protocols/sync/index.js'
import { blockIn, type PackBlockstore, readRuns } from '../../store/index.js'

/**
 * Serves wanted blocks straight from the packs: one index lookup for the
 * whole want list, then one read a run of neighbouring blocks (readRuns).
 * Bytes are not re-hashed here: the receiver verifies every block anyway.
 * Each run gets a buffer of its own: its blocks are held until sent.
 */
export function packBlockReader(blocks: PackBlockstore): BlockReader {
  return {
    async *readMany(cids: CID[], options = {}) {
      const locations = await blocks.locateMany(cids)
      for await (const run of readRuns(blocks, locations, options)) {
        for (let i = run.start; i < run.end; i++) yield blockIn(run, locations[i])
      }
    },
  }
}
