import type { CID } from 'multiformats/cid'
import { blockKey } from '../blocks/block-key.js'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { isFerryError } from '../errors.js'
import type { Location } from '../packs/format.js'
import type { PackBlockstore } from '../packs/pack-blockstore.js'
import { isIndexNode } from './dag.js'
import { nodeLinks } from './nodes/index.js'

/**
 * What reading a block gave: its bytes with the links below it (none for a
 * leaf, and none for an index node that does not decode as its type says:
 * `malformed` tells why), nothing (absent), or an error (unreadable).
 */
export type BlockRead =
  | { bytes: Uint8Array; links: CID[]; malformed?: unknown }
  | { missing: true }
  | { error: unknown }

/** Reads one block for a walk (see BlockRead). */
export async function readBlock(blockstore: Blockstore, cid: CID): Promise<BlockRead> {
  let bytes: Uint8Array
  try {
    bytes = await blockstore.get(cid)
  } catch (error) {
    return isFerryError(error, 'ERR_NOT_FOUND') ? { missing: true } : { error }
  }
  if (!isIndexNode(cid)) return { bytes, links: [] }
  try {
    return { bytes, links: nodeLinks(cid, bytes) }
  } catch (malformed) {
    return { bytes, links: [], malformed }
  }
}

/**
 * Visits every block below `root` once per `seen` set, depth-first, index
 * nodes before their children, reading every block. `visit` returns false
 * to keep out of a node's children (a corrupt node's links are not to be
 * trusted); below a malformed node there is nothing to walk.
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
    const read = await readBlock(blockstore, cid)
    if ((await visit(cid, read)) === false || !('bytes' in read)) continue
    const { links } = read
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
    const links = nodeLinks(cid, await blockstore.read(location)).filter((link) => !seen.has(blockKey(link)))
    const locations = await blockstore.locateMany(links)
    for (let i = links.length - 1; i >= 0; i--) stack.push({ cid: links[i], location: locations[i] ?? null })
  }
}
