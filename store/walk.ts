import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from './blockstore.js'
import { decodeNode } from './cid.js'
import { isIndexNode, linksOf } from './dag.js'
import { isFerryError } from './errors.js'
import type { PackBlockstore } from './pack-blockstore.js'
import type { Location } from './pack-format.js'

/** A compact, hashable key for a block (its multihash). */
export function blockKey(cid: CID): string {
  return Buffer.from(cid.multihash.bytes).toString('base64')
}

/**
 * Visits every block below `root` once per `seen` set, depth-first, index
 * nodes before their children. `visit` gets the bytes (or undefined when the
 * block is absent) and returns the node's links to follow, or none.
 */
export async function walkDag(
  blockstore: Blockstore,
  root: CID,
  seen: Set<string>,
  visit: (cid: CID, bytes: Uint8Array | undefined) => Promise<void> | void,
  options: AbortOptions = {},
): Promise<void> {
  const stack: CID[] = [root]
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const cid = stack.pop()!
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = await blockstore.get(cid).catch((err) => {
      if (isFerryError(err, 'ERR_NOT_FOUND')) return undefined
      throw err
    })
    await visit(cid, bytes)
    if (bytes !== undefined && isIndexNode(cid)) {
      let links: CID[] = []
      try {
        links = linksOf(decodeNode(cid, bytes))
      } catch {
        // An undecodable node is reported by the visitor; nothing below it can be walked.
      }
      for (let i = links.length - 1; i >= 0; i--) stack.push(links[i])
    }
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
  const stack: CID[] = [root]
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const cid = stack.pop()!
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const location = await blockstore.locate(cid)
    if (visit(cid, location) === false || location === undefined || !isIndexNode(cid)) continue
    const links = linksOf(decodeNode(cid, await blockstore.read(location)))
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i])
  }
}
