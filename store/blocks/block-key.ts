import type { CID } from 'multiformats/cid'

/**
 * A compact, hashable key for a block: its multihash, base64. The store
 * indexes blocks by multihash, so one block under two codecs is one key.
 */
export function blockKey(cid: CID): string {
  return Buffer.from(cid.multihash.bytes).toString('base64')
}
