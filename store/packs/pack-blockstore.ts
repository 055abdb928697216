import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { AbortOptions, Block, Blockstore } from '../blocks/blockstore.js'
import { RAW } from '../blocks/cid.js'
import type { StoreDb } from '../db/db.js'
import { FerryError } from '../errors.js'
import { PackAppender } from './appender.js'
import { Committer } from './commit.js'
import { type CompactOptions, compact } from './compact.js'
import { decodeLocation, type Location } from './format.js'
import { LiveCounter, type LiveCounts, type PackUsage, tally } from './live-counts.js'
import { PackFiles } from './pack-files.js'
import { PendingWrites } from './pending-writes.js'
import { blockIn, readRuns } from './read-runs.js'
import { recover } from './recover.js'
import { type PutHashedOptions, writeBlocks } from './writer.js'

export type { PackUsage } from './live-counts.js'
export type { PutHashedOptions } from './writer.js'

export interface PackBlockstoreInit {
  /**
   * A pack is closed and a new one started past this size.
   * @default 1 GiB
   */
  maxPackBytes?: number
  /**
   * `putMany` makes its writes durable (fsync, then one index batch) every this many bytes.
   * @default 64 MiB
   */
  flushBytes?: number
}

export interface PackBlockstoreComponents {
  db: StoreDb
  /** The folder holding `*.pack` files. */
  packDir: string
}

/** CIDs `getMany` looks up in one index read. */
const GET_MANY_GROUP = 64

/**
 * Blocks in append-only pack files, located through the LevelDB index.
 *
 * Durability order: records are appended and the pack fsynced before the
 * index batch that references them is committed, so a crash leaves at worst
 * unreferenced bytes. `open` takes the whole records among them back into the
 * index (each verified against its CID) and truncates the rest away.
 *
 * Made of: the pack files (PackFiles), the appender of records
 * (PackAppender), the commit of index batches with the live counts
 * (Committer, LiveCounter), the writers' shared state (PendingWrites), tail
 * recovery on open (recover) and the rewrite of sparse packs (compact).
 */
export class PackBlockstore implements Blockstore {
  private readonly parts: {
    db: StoreDb
    files: PackFiles
    appender: PackAppender
    live: LiveCounter
    committer: Committer
    pending: PendingWrites
    flushBytes: number
  }
  /** Blocks and bytes `open` took back into the index from past the packs' committed ends. */
  readonly recoveredOnOpen = { blocks: 0, bytes: 0 }

  private constructor(components: PackBlockstoreComponents, init: PackBlockstoreInit) {
    const db = components.db
    const flushBytes = init.flushBytes ?? 64 * 1024 * 1024
    const files = new PackFiles(components.packDir)
    const appender = new PackAppender(files, init.maxPackBytes ?? 1024 * 1024 * 1024)
    const live = new LiveCounter(db)
    const committer = new Committer({ db, files, appender, live })
    const pending = new PendingWrites({ db, committer, flushBytes })
    this.parts = { db, files, appender, live, committer, pending, flushBytes }
  }

  /**
   * Opens the packs. Whole records past a pack's committed end (appended, and
   * the process killed before their index batch) are verified against their
   * CIDs and taken back into the index; the bytes after them (a torn record,
   * or blocks the index already has) are cut off.
   */
  static async open(
    components: PackBlockstoreComponents,
    init: PackBlockstoreInit = {},
  ): Promise<PackBlockstore> {
    const store = new PackBlockstore(components, init)
    await store.parts.live.load()
    Object.assign(store.recoveredOnOpen, await recover(store.parts))
    return store
  }

  async has(cid: CID, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    return this.parts.db.blocks.has(cid.multihash.bytes)
  }

  async hasMany(cids: CID[], options?: AbortOptions): Promise<boolean[]> {
    options?.signal?.throwIfAborted()
    if (cids.length === 0) return []
    return this.parts.db.blocks.hasMany(cids.map((cid) => cid.multihash.bytes))
  }

  /** Where the block's bytes are, or undefined. */
  async locate(cid: CID): Promise<Location | undefined> {
    const value = await this.parts.db.blocks.get(cid.multihash.bytes)
    return value === undefined ? undefined : decodeLocation(value)
  }

  /** `locate` for many blocks in one index lookup. */
  async locateMany(cids: CID[]): Promise<Array<Location | undefined>> {
    if (cids.length === 0) return []
    const values = await this.parts.db.blocks.getMany(cids.map((cid) => cid.multihash.bytes))
    return values.map((value) => (value === undefined ? undefined : decodeLocation(value)))
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    options?.signal?.throwIfAborted()
    const location = await this.locate(cid)
    if (location === undefined) throw new FerryError('ERR_NOT_FOUND', `block ${cid} is not in the store`)
    return this.read(location)
  }

  /** Reads bytes at a location; ERR_CORRUPT_BLOCK when the pack is shorter than the index says. */
  read(location: Location): Promise<Uint8Array> {
    return this.parts.files.read(location)
  }

  /** Reads bytes at a location into the start of `target` (reused buffers: no allocation per read). */
  readInto(location: Location, target: Uint8Array): Promise<Uint8Array> {
    return this.parts.files.readInto(location, target)
  }

  async put(block: Block, options?: AbortOptions): Promise<void> {
    for await (const _ of this.putMany([block], options)) {
      // drain
    }
  }

  putMany(source: AsyncIterable<Block> | Iterable<Block>, options?: AbortOptions): AsyncGenerator<CID> {
    return writeBlocks(this.parts, source, true, options)
  }

  /**
   * Like putMany, for blocks whose CIDs this process has just computed from
   * these very bytes (ingest): skips the second hash.
   */
  putHashed(source: AsyncIterable<Block> | Iterable<Block>, options?: PutHashedOptions): AsyncGenerator<CID> {
    return writeBlocks(this.parts, source, false, options)
  }

  /**
   * Makes everything appended with `deferCommit` durable: one fsync, one
   * index batch. Until then those blocks are invisible to readers (and other
   * writers of the same blocks wait for this).
   */
  flush(): Promise<void> {
    return this.parts.pending.flush()
  }

  /** Blocks and bytes appended by this process so far (duplicates found before appending are skipped). */
  written(): { blocks: number; bytes: number } {
    return this.parts.appender.written()
  }

  /**
   * `get` for many blocks: one index lookup a group of GET_MANY_GROUP, and
   * neighbouring blocks read in one go (readRuns). Each block's bytes are a
   * view of its run's buffer.
   */
  async *getMany(cids: AsyncIterable<CID> | Iterable<CID>, options?: AbortOptions): AsyncGenerator<Block> {
    let group: CID[] = []
    for await (const cid of cids) {
      group.push(cid)
      if (group.length < GET_MANY_GROUP) continue
      yield* this.readGroup(group, options)
      group = []
    }
    if (group.length > 0) yield* this.readGroup(group, options)
  }

  private async *readGroup(cids: CID[], options?: AbortOptions): AsyncGenerator<Block> {
    options?.signal?.throwIfAborted()
    const locations = await this.locateMany(cids)
    // The blocks before the first absent one are given, then ERR_NOT_FOUND names it.
    const absent = locations.indexOf(undefined)
    const present = absent < 0 ? locations : locations.slice(0, absent)
    for await (const run of readRuns(this, present, options)) {
      for (let i = run.start; i < run.end; i++)
        yield { cid: cids[i], bytes: blockIn(run, present[i] as Location) }
    }
    if (absent >= 0) throw new FerryError('ERR_NOT_FOUND', `block ${cids[absent]} is not in the store`)
  }

  async delete(cid: CID, options?: AbortOptions): Promise<void> {
    await this.forget([cid.multihash.bytes], options)
  }

  /** Drops these blocks (by multihash) from the index in one batch; their bytes stay until compaction. */
  async forget(keys: Uint8Array[], options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    await this.parts.committer.commit({ removed: keys })
  }

  async *keys(options?: AbortOptions): AsyncGenerator<CID> {
    for await (const key of this.parts.db.blocks.keys()) {
      options?.signal?.throwIfAborted()
      yield CID.createV1(RAW, Digest.decode(key))
    }
  }

  /** Every stored block with its location, in index order. */
  async *entries(options?: AbortOptions): AsyncGenerator<{ cid: CID; location: Location }> {
    for await (const [key, value] of this.parts.db.blocks.iterator()) {
      options?.signal?.throwIfAborted()
      yield { cid: CID.createV1(RAW, Digest.decode(key)), location: decodeLocation(value) }
    }
  }

  /** Live and file bytes per pack: from the counts kept with the index, not a walk of it. */
  usage(options?: AbortOptions): Promise<PackUsage[]> {
    return this.parts.live.usage(this.parts.files, options)
  }

  /**
   * Counts the live blocks and bytes of every pack from the index itself and
   * replaces the kept counts with them: for a store written before the counts
   * were kept. One walk of the index; run it with no writer busy.
   */
  async recountLive(options?: AbortOptions): Promise<void> {
    const counted: LiveCounts = new Map()
    for await (const { location } of this.entries(options)) tally(counted, location, 1)
    await this.parts.live.replace(counted)
  }

  /**
   * Rewrites packs whose live share is below `minLiveRatio`: copies their live
   * blocks to the active pack, commits the new locations, then deletes the old
   * files. Returns the bytes reclaimed.
   */
  compact(options: CompactOptions = {}): Promise<{ packsRemoved: number; bytesFreed: number }> {
    return compact({ ...this.parts, entries: (o) => this.entries(o) }, options)
  }

  async close(): Promise<void> {
    await this.parts.appender.close()
  }
}
