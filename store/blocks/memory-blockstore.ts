import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { FerryError } from '../errors.js'
import type { AbortOptions, Block, Blockstore } from './blockstore.js'
import { assertBlock, RAW } from './cid.js'

/** A Blockstore in memory: for tests and for short-lived scratch work. */
export class MemoryBlockstore implements Blockstore {
  private readonly blocks = new Map<string, Uint8Array>()

  private key(cid: CID): string {
    return base58btc.encode(cid.multihash.bytes)
  }

  async has(cid: CID, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    return this.blocks.has(this.key(cid))
  }

  async hasMany(cids: CID[], options?: AbortOptions): Promise<boolean[]> {
    options?.signal?.throwIfAborted()
    return cids.map((cid) => this.blocks.has(this.key(cid)))
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    options?.signal?.throwIfAborted()
    const bytes = this.blocks.get(this.key(cid))
    if (bytes === undefined) throw new FerryError('ERR_NOT_FOUND', `block ${cid} is not in the store`)
    return bytes
  }

  async put(block: Block, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    assertBlock(block.cid, block.bytes)
    this.blocks.set(this.key(block.cid), block.bytes.slice())
  }

  async *putMany(
    source: AsyncIterable<Block> | Iterable<Block>,
    options?: AbortOptions,
  ): AsyncGenerator<CID> {
    for await (const block of source) {
      await this.put(block, options)
      yield block.cid
    }
  }

  async *getMany(cids: AsyncIterable<CID> | Iterable<CID>, options?: AbortOptions): AsyncGenerator<Block> {
    for await (const cid of cids) yield { cid, bytes: await this.get(cid, options) }
  }

  async delete(cid: CID, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    this.blocks.delete(this.key(cid))
  }

  async *keys(options?: AbortOptions): AsyncGenerator<CID> {
    for (const key of [...this.blocks.keys()]) {
      options?.signal?.throwIfAborted()
      yield CID.createV1(RAW, Digest.decode(base58btc.decode(key)))
    }
  }
}
