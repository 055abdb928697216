import * as dagCbor from '@ipld/dag-cbor'
import { cidFor, DAG_CBOR, FerryError, type SignedHead, signedHeadFrom } from '../../store/index.js'
import { MAX_HEADS } from './constants.js'
import type { ReceivedHeads } from './index.js'

/*
 * Wire format of /ferry/heads/1.0.0: one length-prefixed dag-cbor message
 * each way, `{heads: [{block, signature}, ...]}`: each head block exactly as
 * signed, and the publisher's signature over its CID. The receiver derives
 * the CID from the bytes, so a head can't be relabelled on the way.
 */

interface WireHead {
  block: Uint8Array
  signature: Uint8Array
}

export function encodeHeads(heads: SignedHead[]): Uint8Array {
  return dagCbor.encode({ heads: heads.map((h): WireHead => ({ block: h.bytes, signature: h.signature })) })
}

/** Decodes a heads message. Heads that are malformed are left out and counted in `rejected`. */
export function decodeHeads(bytes: Uint8Array): ReceivedHeads {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (cause) {
    throw new FerryError('ERR_PROTOCOL', 'heads: the message does not decode as dag-cbor', { cause })
  }
  const list = (value as { heads?: unknown })?.heads
  if (!Array.isArray(list) || list.length > MAX_HEADS)
    throw new FerryError('ERR_PROTOCOL', `heads: expected a list of at most ${MAX_HEADS} heads`)
  const heads: SignedHead[] = []
  let rejected = 0
  for (const item of list as WireHead[]) {
    if (!(item?.block instanceof Uint8Array) || !(item.signature instanceof Uint8Array)) {
      rejected++
      continue
    }
    try {
      heads.push(signedHeadFrom(cidFor(DAG_CBOR, item.block), item.block, item.signature))
    } catch {
      rejected++
    }
  }
  return { heads, rejected }
}
