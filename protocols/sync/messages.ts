import * as dagCbor from '@ipld/dag-cbor'
import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { FerryError } from '../../store/index.js'
import { MAX_WANT_BLOCKS } from './constants.js'

/*
 * Wire format of /ferry/sync/1.0.0, one request a stream:
 *   requester → one length-prefixed dag-cbor message `{want: [CID, ...]}`, then closes its write side;
 *   responder → one length-prefixed frame a wanted CID, in request order:
 *     0x00 + the block's bytes (it has it), or 0x01 (it has not).
 * (reply-reader.ts decodes the replies straight into the receiver's buffer.)
 * Blocks are not named again in the reply: order pairs them with the want.
 */

export const FRAME_BLOCK = 0
export const FRAME_ABSENT = 1

/** Encodes a want list (length prefix included). */
export function encodeWant(cids: CID[]): Uint8ArrayList {
  return lp.encode.single(dagCbor.encode({ want: cids }))
}

/** Decodes and validates a want list: a list of at most MAX_WANT_BLOCKS CIDs. */
export function decodeWant(message: Uint8ArrayList | Uint8Array): CID[] {
  let value: unknown
  try {
    value = dagCbor.decode(message.subarray())
  } catch (cause) {
    throw new FerryError('ERR_PROTOCOL', 'sync: the want list does not decode as dag-cbor', { cause })
  }
  const want = (value as { want?: unknown })?.want
  if (!Array.isArray(want) || want.length === 0 || want.length > MAX_WANT_BLOCKS)
    throw new FerryError('ERR_PROTOCOL', `sync: a want list needs 1 to ${MAX_WANT_BLOCKS} CIDs`)
  return want.map((item) => {
    const cid = CID.asCID(item)
    if (cid === null) throw new FerryError('ERR_PROTOCOL', 'sync: the want list holds something not a CID')
    return cid
  })
}

const ABSENT = lp.encode.single(Uint8Array.of(FRAME_ABSENT))

/** One reply frame: the block, or "absent" when `bytes` is undefined. No copy of the bytes. */
export function encodeBlockFrame(bytes: Uint8Array | undefined): Uint8ArrayList {
  if (bytes === undefined) return ABSENT
  return lp.encode.single(new Uint8ArrayList(Uint8Array.of(FRAME_BLOCK), bytes))
}
