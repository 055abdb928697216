import type { FetchComponents } from '../../protocols/sync/index.js'
import { blockMatches, MAX_NODE_BYTES } from '../../store/blocks/cid.js'
import { MemoryBlockstore } from '../../store/blocks/memory-blockstore.js'
import { Completeness } from '../../store/dag/completeness.js'
import type { BinarySublevel } from '../../store/db/db.js'
import { ArenaPool } from '../../store/ingest/arena.js'

/**
 * A fetch's receiving side for unit tests of the sync protocol: a
 * MemoryBlockstore, walked by the store's own Completeness (marks in a Set),
 * leaves written one by one.
 */
export function memoryFetchStore(): { local: MemoryBlockstore; components: FetchComponents } {
  const local = new MemoryBlockstore()
  const marks = new Set<string>()
  const hex = (key: Uint8Array) => Buffer.from(key).toString('hex')
  const completeness = new Completeness({
    blockstore: local,
    marks: {
      has: async (key: Uint8Array) => marks.has(hex(key)),
      batch: async (ops: Array<{ key: Uint8Array }>) => {
        for (const op of ops) marks.add(hex(op.key))
      },
    } as unknown as BinarySublevel,
  })
  const components: FetchComponents = {
    missing: (root, options) => completeness.missing(root, options),
    putIndex: (block) => local.put(block),
    async *writeLeaves(source, onStored) {
      for await (const block of source) {
        await local.put(block)
        onStored([block])
        yield block.cid
      }
    },
    arenas: new ArenaPool(4, 0, MAX_NODE_BYTES),
    verify: blockMatches,
  }
  return { local, components }
}
