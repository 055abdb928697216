import { type FetchComponents, MAX_PATCH_BASES } from '../../protocols/sync/index.js'
import { blockMatches, expandPatch, FileNodeCache, parseCid, type Store } from '../../store/index.js'

/**
 * What a fetch (protocols/sync DagFetch) needs of `store`: leaves are
 * appended in groups and made durable every `flushBytes`; index nodes are
 * stored at once, so the next walk starts from them. With `patches`, peers
 * are asked for patches against the releases published here (newest first),
 * which are expanded against them and verified.
 */
export function storeFetchComponents(store: Store, flushBytes: number, patches = true): FetchComponents {
  const components: FetchComponents = {
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
  if (!patches) return components
  // The base files' index nodes, decoded once for all the patches expanded against them.
  const nodes = new FileNodeCache(8)
  return {
    ...components,
    async patchBases(root, options) {
      const heads = (await store.heads())
        .filter((record) => record.root !== root.toString())
        .sort((a, b) => b.created.localeCompare(a.created))
      const bases = []
      for (const record of heads) {
        if (bases.length >= MAX_PATCH_BASES) break
        const base = parseCid(record.root)
        if (await store.completeness.isComplete(base, options)) bases.push(base)
      }
      return bases
    },
    expand: (patch) => expandPatch(store.blocks, patch, { nodes }),
  }
}
