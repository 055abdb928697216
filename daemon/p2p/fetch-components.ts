import type { FetchComponents } from '../../protocols/sync/index.js'
import { blockMatches, type Store } from '../../store/index.js'

/**
 * What a fetch (protocols/sync DagFetch) needs of `store`: leaves are
 * appended in groups and made durable every `flushBytes`; index nodes are
 * stored at once, so the next walk starts from them.
 */
export function storeFetchComponents(store: Store, flushBytes: number): FetchComponents {
  return {
    missing: (root, options) => store.completeness.missing(root, options),
    putIndex: (block) => store.blocks.put(block),
    writeLeaves: (source, onStored) =>
      // The fetcher asks only for blocks the index lacks.
      store.blocks.putHashed(source, {
        flushBytes,
        groupBytes: flushBytes / 2,
        onStored,
        knownMissing: true,
      }),
    arenas: store.pipeline.syncArenas,
    // On the main thread: sha256 outruns decryption, and a hashing thread costs wake-ups and memory.
    verify: blockMatches,
  }
}
