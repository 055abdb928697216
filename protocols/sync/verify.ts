import { createHash, webcrypto } from 'node:crypto'
import type { CID } from 'multiformats/cid'

/** multihash code of sha2-256, the only hash ferry's CIDs use. */
const SHA2_256 = 0x12

/**
 * True when `bytes` hash to the digest in `cid`. Hashes on libuv's thread
 * pool (WebCrypto), not on the main thread: that thread is busy decrypting
 * and demultiplexing the connection, and several blocks verify at once.
 */
export async function verifyBlockAsync(cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code !== SHA2_256) return false
  const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', bytes))
  return Buffer.compare(digest, cid.multihash.digest) === 0
}

/** True when `bytes` hash to the digest in `cid`, hashed on this thread (node:crypto). */
export function verifyBlock(cid: CID, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== SHA2_256) return false
  return Buffer.compare(createHash('sha256').update(bytes).digest(), cid.multihash.digest) === 0
}
