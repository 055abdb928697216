import type { CID } from 'multiformats/cid'

/** A block: its CID and the bytes it names. */
export interface Block {
  cid: CID
  bytes: Uint8Array
}

export interface AbortOptions {
  signal?: AbortSignal
}

/**
 * The one block store contract. Every implementation passes the shared
 * compliance suite in `test/store/blockstore-compliance.ts`.
 *
 * Blocks are addressed by multihash: a raw and a dag-cbor CID with the same
 * digest name the same stored bytes. Every `put` verifies the bytes against
 * the CID and refuses a mismatch with ERR_CORRUPT_BLOCK; nothing unverified is
 * ever stored.
 */
export interface Blockstore {
  has(cid: CID, options?: AbortOptions): Promise<boolean>
  /** `has` for many CIDs in one lookup. */
  hasMany(cids: CID[], options?: AbortOptions): Promise<boolean[]>
  /** The block's bytes; ERR_NOT_FOUND when absent. Bytes are not re-verified here. */
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** Stores one block; a no-op for a block already present. */
  put(block: Block, options?: AbortOptions): Promise<void>
  /**
   * Stores a stream of blocks, consuming it with backpressure, and yields each
   * CID once it is durably stored (in input order).
   */
  putMany(source: AsyncIterable<Block> | Iterable<Block>, options?: AbortOptions): AsyncGenerator<CID>
  /** Yields the blocks for `cids` in order; ERR_NOT_FOUND at the first absent one. */
  getMany(cids: AsyncIterable<CID> | Iterable<CID>, options?: AbortOptions): AsyncGenerator<Block>
  /** Removes a block; a no-op when absent. */
  delete(cid: CID, options?: AbortOptions): Promise<void>
  /** Every stored block's CID (as raw-codec CIDs: the store keeps multihashes). */
  keys(options?: AbortOptions): AsyncGenerator<CID>
}
