import { CID } from 'multiformats/cid'
import type { Blockstore } from '../blocks/blockstore.js'
import { DAG_CBOR, decodeNode } from '../blocks/cid.js'

/** A file's index node: children are raw chunks or nested file nodes, each with its byte size. */
export interface FileNode {
  type: 'file'
  size: number
  links: Array<[CID, number]>
}

/** Every link (CID) anywhere inside a decoded dag-cbor value. */
export function linksOf(value: unknown, out: CID[] = []): CID[] {
  const cid = CID.asCID(value)
  if (cid !== null) {
    out.push(cid)
  } else if (Array.isArray(value)) {
    for (const item of value) linksOf(item, out)
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const item of Object.values(value)) linksOf(item, out)
  }
  return out
}

/** Reads and decodes an index node (no hash check: callers that need one use `verify`). */
export async function loadNode<T>(blockstore: Blockstore, cid: CID): Promise<T> {
  return decodeNode<T>(cid, await blockstore.get(cid))
}

export function isIndexNode(cid: CID): boolean {
  return cid.code === DAG_CBOR
}
