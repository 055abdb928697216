import { CID } from 'multiformats/cid'
import { DAG_CBOR } from '../blocks/cid.js'

/**
 * Every link (CID) anywhere inside a decoded dag-cbor value, whatever its
 * type. Walkers follow a ferry node's links by its codec (nodes/index.ts);
 * this is for values of no known type.
 */
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

/** True for an index node (dag-cbor); leaves are raw. */
export function isIndexNode(cid: CID): boolean {
  return cid.code === DAG_CBOR
}
