import type { CID } from 'multiformats/cid'
import { blockKey } from '../blocks/block-key.js'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { decodeNode } from '../blocks/cid.js'
import { isFerryError } from '../errors.js'
import type { Location } from '../packs/format.js'
import type { PackBlockstore } from '../packs/pack-blockstore.js'
import { isIndexNode, linksOf } from './dag.js'

/** What reading a block gave: its bytes, nothing (absent), or an error (unreadable). */
export type BlockRead = { bytes: Uint8Array } | { missing: true } | { error: unknown }

/**
 * Visits every block below `root` once per `seen` set, depth-first, index
 * nodes before their children, reading every block. `visit` returns false
 * to keep out of a node's children (a corrupt node's links are not to be
 * trusted).
 */
export async function walkDag(
  blockstore: Blockstore,
  root: CID,
  seen: Set<string>,
  visit: (cid: CID, read: BlockRead) => boolean | undefined | Promise<boolean | undefined>,
  options: AbortOptions = {},
): Promise<void> {
  const stack: CID[] = [root]
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const cid = stack.pop()!
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const read: BlockRead = await blockstore.get(cid).then(
      (bytes) => ({ bytes }),
      (error) => (isFerryError(error, 'ERR_NOT_FOUND') ? { missing: true as const } : { error }),
    )
    const descend = await visit(cid, read)
    if (descend === false || !('bytes' in read) || !isIndexNode(cid)) continue
    let links: CID[] = []
    try {
      links = linksOf(decodeNode(cid, read.bytes))
    } catch {
      // An undecodable node is reported by the visitor; nothing below it can be walked.
    }
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i])
  }
}

/**
 * Walks the DAG below `root` depth-first, index nodes before their children
 * (DAG order), reading only index nodes: leaves are looked up, not read.
 * `visit` gets each block once per `seen` set with its stored length, or
 * undefined when the store lacks it; returning false skips the block's
 * subtree (it is still marked seen).
 */
export async function walkIndex(
  blockstore: PackBlockstore,
  root: CID,
  seen: Set<string>,
  visit: (cid: CID, location: Location | undefined) => boolean | undefined,
  options: AbortOptions = {},
): Promise<void> {
  // Children are located in one index lookup per node (getMany), not one per block.
  const stack: Array<{ cid: CID; location?: Location | null }> = [{ cid: root }]
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const { cid, location: known } = stack.pop()!
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const location = known === undefined ? await blockstore.locate(cid) : (known ?? undefined)
    if (visit(cid, location) === false || location === undefined || !isIndexNode(cid)) continue
    const links = linksOf(decodeNode(cid, await blockstore.read(location))).filter(
      (link) => !seen.has(blockKey(link)),
    )
    const locations = await blockstore.locateMany(links)
    for (let i = links.length - 1; i >= 0; i--) stack.push({ cid: links[i], location: locations[i] ?? null })
  }
}
