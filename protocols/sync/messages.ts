import * as dagCbor from '@ipld/dag-cbor'
import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { FerryError } from '../../store/index.js'
import { MAX_PATCH_BASES, MAX_WANT_BLOCKS } from './constants.js'

/*
 * Wire format of /ferry/sync/1.0.0 and 1.1.0, one request a stream:
 *   requester → one length-prefixed dag-cbor message `{want: [CID, ...]}`, then closes its write side;
 *     in 1.1.0 it may add `patch: {root, bases: [CID, ...]}`: the release the wanted blocks are
 *     below, and the (complete) releases the requester holds, which patches may be made against;
 *   responder → length-prefixed frames answering the wants in request order:
 *     0x00 + the block's bytes (it has it), or 0x01 (it has not);
 *     in 1.1.0 also 0x02 + a patch node (store/dag/nodes/patch.ts): it answers the next
 *     `targets.length` wants, whose CIDs are its targets, in order.
 * (reply-reader.ts decodes the replies straight into the receiver's buffer.)
 * Blocks are not named again in the reply: order pairs them with the want.
 */

export const FRAME_BLOCK = 0
export const FRAME_ABSENT = 1
export const FRAME_PATCH = 2

/** What a want list may add in 1.1.0: patches against the releases `bases`, for blocks below `root`. */
export interface PatchRequest {
  root: CID
  bases: CID[]
}

/** A decoded want list. */
export interface Want {
  cids: CID[]
  patch?: PatchRequest
}

/** Encodes a want list (length prefix included). */
export function encodeWant(cids: CID[], patch?: PatchRequest): Uint8ArrayList {
  return lp.encode.single(dagCbor.encode(patch === undefined ? { want: cids } : { want: cids, patch }))
}

function asCid(item: unknown, what: string): CID {
  const cid = CID.asCID(item)
  if (cid === null) throw new FerryError('ERR_PROTOCOL', `sync: ${what} is not a CID`)
  return cid
}

/** Decodes and validates a want list: at most MAX_WANT_BLOCKS CIDs, and at most MAX_PATCH_BASES bases. */
export function decodeWant(message: Uint8ArrayList | Uint8Array): Want {
  let value: unknown
  try {
    value = dagCbor.decode(message.subarray())
  } catch (cause) {
    throw new FerryError('ERR_PROTOCOL', 'sync: the want list does not decode as dag-cbor', { cause })
  }
  const { want, patch } = (value ?? {}) as { want?: unknown; patch?: { root?: unknown; bases?: unknown } }
  if (!Array.isArray(want) || want.length === 0 || want.length > MAX_WANT_BLOCKS)
    throw new FerryError('ERR_PROTOCOL', `sync: a want list needs 1 to ${MAX_WANT_BLOCKS} CIDs`)
  const cids = want.map((item) => asCid(item, 'the want list holds something that'))
  if (patch === undefined) return { cids }
  // Anything a peer sent: null, a number or a list here must be refused, not dereferenced.
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw new FerryError('ERR_PROTOCOL', 'sync: patch must be a map {root, bases}')
  const bases = patch.bases
  if (!Array.isArray(bases) || bases.length > MAX_PATCH_BASES)
    throw new FerryError('ERR_PROTOCOL', `sync: patch.bases must list at most ${MAX_PATCH_BASES} CIDs`)
  return {
    cids,
    patch: {
      root: asCid(patch.root, 'patch.root'),
      bases: bases.map((item) => asCid(item, 'an item of patch.bases')),
    },
  }
}

const ABSENT = lp.encode.single(Uint8Array.of(FRAME_ABSENT))

/** One reply frame: the block, or "absent" when `bytes` is undefined. No copy of the bytes. */
export function encodeBlockFrame(bytes: Uint8Array | undefined): Uint8ArrayList {
  if (bytes === undefined) return ABSENT
  return lp.encode.single(new Uint8ArrayList(Uint8Array.of(FRAME_BLOCK), bytes))
}

/** A patch reply frame: the patch node's bytes. */
export function encodePatchFrame(node: Uint8Array): Uint8ArrayList {
  return lp.encode.single(new Uint8ArrayList(Uint8Array.of(FRAME_PATCH), node))
}
