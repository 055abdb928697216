import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import type { BinarySublevel } from '../db/db.js'
import { isIndexNode } from './dag.js'
import { nodeLinks, sizedLinks } from './nodes/index.js'

export interface CompletenessComponents {
  blockstore: Blockstore
  /** multihash of a complete node → '' */
  marks: BinarySublevel
}

const EMPTY = new Uint8Array(0)

/**
 * Answers "is every block below this root present?" and remembers the answer
 * for index nodes, so that later walks skip whole subtrees in one lookup.
 */
export class Completeness {
  constructor(private readonly components: CompletenessComponents) {}

  async isMarked(cid: CID): Promise<boolean> {
    return this.components.marks.has(cid.multihash.bytes)
  }

  async mark(cid: CID): Promise<void> {
    await this.markMany([cid])
  }

  /** Marks index nodes known complete (leaves need no mark: a lookup answers for them), in one batch. */
  async markMany(cids: CID[]): Promise<void> {
    const nodes = cids.filter(isIndexNode)
    if (nodes.length === 0) return
    await this.components.marks.batch(
      nodes.map((cid) => ({ type: 'put' as const, key: cid.multihash.bytes, value: EMPTY })),
    )
  }

  /**
   * Yields every block below `root` (inclusive) that the store lacks, skipping
   * subtrees marked complete and marking the ones found complete. Below a
   * missing index node nothing can be known; that node alone is yielded.
   */
  async *missing(root: CID, options: AbortOptions = {}): AsyncGenerator<CID> {
    const { blockstore } = this.components
    const self = this
    async function* walk(cid: CID): AsyncGenerator<CID, boolean> {
      options.signal?.throwIfAborted()
      if (!isIndexNode(cid)) {
        if (await blockstore.has(cid)) return true
        yield cid
        return false
      }
      if (await self.isMarked(cid)) return true
      let bytes: Uint8Array
      try {
        bytes = await blockstore.get(cid)
      } catch {
        yield cid
        return false
      }
      let complete = true
      const links = nodeLinks(cid, bytes)
      // Leaves are looked up in one batch per node, index nodes one by one (each may be marked).
      const leaves = links.filter((link) => !isIndexNode(link))
      const present = await blockstore.hasMany(leaves)
      for (let i = 0; i < leaves.length; i++) {
        if (present[i]) continue
        complete = false
        yield leaves[i]
      }
      for (const link of links) {
        if (isIndexNode(link) && !(yield* walk(link))) complete = false
      }
      if (complete) await self.mark(cid)
      return complete
    }
    yield* walk(root)
  }

  /** True when nothing below `root` is missing. */
  async isComplete(root: CID, options?: AbortOptions): Promise<boolean> {
    for await (const _ of this.missing(root, options)) return false
    return true
  }

  /**
   * How much is missing below `root`: blocks, and the bytes they stand for
   * where the DAG says (file nodes give each child's size, entries the
   * artefact's). A missing index node counts once, with its subtree's size.
   */
  async missingSummary(root: CID, options: AbortOptions = {}): Promise<{ blocks: number; bytes: number }> {
    const { blockstore } = this.components
    const summary = { blocks: 0, bytes: 0 }
    const stack: Array<[CID, number]> = [[root, 0]]
    while (stack.length > 0) {
      options.signal?.throwIfAborted()
      const [cid, size] = stack.pop()!
      if (!isIndexNode(cid)) continue // leaves are checked in batches by their parent
      if (await this.isMarked(cid)) continue
      let bytes: Uint8Array
      try {
        bytes = await blockstore.get(cid)
      } catch {
        summary.blocks++
        summary.bytes += size
        continue
      }
      const children = sizedLinks(cid, bytes)
      const leaves = children.filter(([link]) => !isIndexNode(link))
      const present = await blockstore.hasMany(leaves.map(([link]) => link))
      leaves.forEach(([, leafSize], i) => {
        if (present[i]) return
        summary.blocks++
        summary.bytes += leafSize
      })
      for (const child of children) if (isIndexNode(child[0])) stack.push(child)
    }
    return summary
  }
}
