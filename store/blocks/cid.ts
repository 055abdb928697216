import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { FerryError } from '../errors.js'
import { sha256Digest } from './sha256.js'

/** Multicodec of leaf data blocks. */
export const RAW = 0x55
/** Multicodec of index nodes. */
export const DAG_CBOR = 0x71
/** No index node may be larger than this, encoded (DESIGN.md). */
export const MAX_NODE_BYTES = 1024 * 1024

/** CIDv1 for `bytes` under `codec`, hashed with sha2-256. */
export function cidFor(codec: number, bytes: Uint8Array): CID {
  return cidFromDigest(codec, sha256Digest(bytes))
}

export function cidFromDigest(codec: number, digest: Uint8Array): CID {
  return CID.createV1(codec, Digest.create(sha256.code, digest))
}

/** Encodes an index node and returns it with its CID. */
export function encodeNode(value: unknown): { cid: CID; bytes: Uint8Array } {
  const bytes = dagCbor.encode(value)
  if (bytes.byteLength > MAX_NODE_BYTES) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `index node of ${bytes.byteLength} bytes exceeds the 1 MiB limit`,
    )
  }
  return { cid: cidFor(DAG_CBOR, bytes), bytes }
}

export function decodeNode<T = unknown>(cid: CID, bytes: Uint8Array): T {
  if (cid.code !== DAG_CBOR)
    throw new FerryError('ERR_CORRUPT_BLOCK', `block ${cid} is not a dag-cbor index node`)
  try {
    return dagCbor.decode<T>(bytes)
  } catch (cause) {
    throw new FerryError('ERR_CORRUPT_BLOCK', `block ${cid} does not decode as dag-cbor`, { cause })
  }
}

/** True when `bytes` hash to the digest in `cid`. Only sha2-256 CIDs are accepted. */
export function blockMatches(cid: CID, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== sha256.code) return false
  return Buffer.compare(sha256Digest(bytes), cid.multihash.digest) === 0
}

/** Throws ERR_CORRUPT_BLOCK when `bytes` are not the block `cid` names. */
export function assertBlock(cid: CID, bytes: Uint8Array): void {
  if (!blockMatches(cid, bytes)) {
    throw new FerryError('ERR_CORRUPT_BLOCK', `block ${cid} does not match its hash`, {
      details: { cid: cid.toString() },
    })
  }
}

/** Parses a CID string, with a clear error naming the input. */
export function parseCid(text: string): CID {
  try {
    return CID.parse(text)
  } catch (cause) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `'${text}' is not a CID`, { cause })
  }
}

export { CID }
