import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { AbortOptions, Block, Blockstore } from '../blocks/blockstore.js'
import { assertBlock, RAW } from '../blocks/cid.js'
import { type BatchOp, delOp, putOp, writeBatch } from '../db/batch.js'
import type { LiveCount, StoreDb } from '../db/db.js'
import { FerryError } from '../errors.js'
import {
  decodeLocation,
  encodeLocation,
  encodeRecordHeader,
  type Location,
  MAX_RECORD_DATA,
  PACK_MAGIC,
  scanPack,
} from './format.js'

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

export interface PutHashedOptions extends AbortOptions {
  /**
   * Called once the bytes of these blocks have been handed to the file system
   * (written or found present), so a caller may reuse their buffers. Not yet durable.
   */
  onStored?: (blocks: Block[]) => void
  /**
   * Leave the fsync and index commit to the next `flush()` (or to when a
   * flush-size of such writes has gathered): CIDs are yielded once appended,
   * not yet durable. For many small writes that become durable together,
   * such as the files of one `bom build`.
   */
  deferCommit?: boolean
  /**
   * Make writes durable every this many bytes (this call only): smaller means
   * less to redo after a crash, larger means fewer fsyncs.
   * @default the store's flushBytes (64 MiB)
   */
  flushBytes?: number
  /**
   * Append in groups of at most this many bytes (this call only). Bytes gathered into a group are
   * not yet written, so a caller that must lose little on a crash (sync) passes less.
   * @default 8 MiB
   */
  groupBytes?: number
  /**
   * The caller found these blocks missing from the index just before (a sync
   * asks its peers only for blocks it lacks): skip the index lookup before
   * each append. A block that another writer committed in the meantime is
   * then appended again, and dropped at commit (its bytes stay dead until
   * compaction), so the index and its counts stay right either way.
   * @default false
   */
  knownMissing?: boolean
}

/** Per-pack figures, for status and for gc's choice of packs to rewrite. */
export interface PackUsage {
  pack: number
  fileBytes: number
  liveBytes: number
  liveBlocks: number
}

const GROUP_BYTES = 8 * 1024 * 1024
const GROUP_BLOCKS = 512

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {}) // a failed commit is reported by its own writer
  return { promise, resolve, reject }
}

/** A block's index key (its multihash) and where its bytes are. */
interface Placed {
  key: Uint8Array
  location: Location
}

/** An appended block on its way into the index. */
interface Appended extends Placed {
  /**
   * Appended without the write path's index lookup (knownMissing): another
   * writer may have committed it first, so the commit looks it up. The others
   * were looked up before they were appended, and no writer appends a block
   * another holds uncommitted or committed during that lookup.
   */
  unchecked: boolean
}

/**
 * One atomic change of the index. Every change to the `blocks` sublevel goes
 * through one of these, so the per-pack live counts change in the same batch.
 */
interface IndexChange {
  /** Blocks appended for the index; unchecked ones it has already are skipped. */
  added?: Appended[]
  /** Blocks given a new location (compaction), with the one they had. */
  moved?: Array<Placed & { from: Location }>
  /** Blocks to drop from the index; keys it does not have are skipped. */
  removed?: Uint8Array[]
}

/** Appended blocks waiting for their index commit, and whom to tell when it lands. */
interface PendingBatch {
  locations: Appended[]
  /** Each writer's batch promise and the blocks it claimed in `uncommitted`. */
  batches: Array<{ batch: ReturnType<typeof deferred>; ids: string[] }>
  /** Other writers' commits holding blocks these skipped. */
  waits: Array<Promise<void>>
}

/** A block's index key (its multihash bytes) as a string, for sets and maps. */
function keyId(key: Uint8Array): string {
  return Buffer.from(key).toString('base64')
}

function packName(pack: number): string {
  return `${pack.toString(16).padStart(8, '0')}.pack`
}

function packKey(pack: number): string {
  return pack.toString(16).padStart(8, '0')
}

/**
 * Blocks in append-only pack files, located through the LevelDB index.
 *
 * Durability order: records are appended and the pack fsynced before the
 * index batch that references them is committed, so a crash leaves at worst
 * unreferenced bytes. `open` takes the whole records among them back into the
 * index (each verified against its CID) and truncates the rest away.
 */
export class PackBlockstore implements Blockstore {
  private readonly db: StoreDb
  private readonly packDir: string
  private readonly maxPackBytes: number
  private readonly flushBytes: number
  private readonly handles = new Map<number, FileHandle>()
  private active = 0
  private activeEnd = 0
  private readonly dirty = new Set<number>()
  private lock: Promise<void> = Promise.resolve()
  /** Blocks appended by some writer and not yet committed, with that writer's commit. */
  private readonly uncommitted = new Map<string, Promise<void>>()
  /** Appended with deferCommit, waiting for flush(). */
  private awaitingFlush: PendingBatch = { locations: [], batches: [], waits: [] }
  private deferredBytes = 0
  /** The last commit started (commits are chained). */
  private committing: Promise<void> = Promise.resolve()
  /** The last flush started (flushes are chained). */
  private flushing: Promise<void> = Promise.resolve()
  private writtenBlocks = 0
  private writtenBytes = 0
  /** Blocks and bytes `open` took back into the index from past the packs' committed ends. */
  readonly recoveredOnOpen = { blocks: 0, bytes: 0 }
  /** Live blocks and bytes per pack, as committed (and persisted in `db.live` with each commit). */
  private readonly live = new Map<number, LiveCount>()
  /** Index lookups of the write path in flight (see `landedDuringLookups`). */
  private lookups = 0
  /**
   * Blocks committed while a write-path lookup was in flight: that lookup may
   * have missed them, and must not append them again. Emptied when no lookup is.
   */
  private readonly landedDuringLookups = new Set<string>()

  private constructor(components: PackBlockstoreComponents, init: PackBlockstoreInit) {
    this.db = components.db
    this.packDir = components.packDir
    this.maxPackBytes = init.maxPackBytes ?? 1024 * 1024 * 1024
    this.flushBytes = init.flushBytes ?? 64 * 1024 * 1024
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
    await store.recover()
    return store
  }

  private async recover(): Promise<void> {
    for await (const [key, count] of this.db.live.iterator()) this.live.set(Number.parseInt(key, 16), count)
    await mkdir(this.packDir, { recursive: true })
    const names = (await readdir(this.packDir)).filter((name) => /^[0-9a-f]{8}\.pack$/.test(name)).sort()
    const recovered: Appended[] = []
    const seen = new Set<string>()
    for (const name of names) {
      const pack = Number.parseInt(name.slice(0, 8), 16)
      const path = join(this.packDir, name)
      const committed = await this.db.packs.get(packKey(pack))
      const handle = await open(path, 'r+')
      const { size } = await handle.stat()
      let end = committed ?? 0
      let taken = 0
      if (size > end) {
        const tail = await this.recoverTail(handle, pack, end, seen)
        recovered.push(...tail.records)
        taken = tail.records.length
        end = tail.end
      }
      if (committed === undefined && taken === 0) {
        // No index batch ever referenced this pack, and it holds nothing the index lacks.
        await handle.close()
        await rm(path, { force: true })
        continue
      }
      if (size > end) {
        await handle.truncate(end)
        await handle.sync()
      }
      this.handles.set(pack, handle)
      if (taken > 0) this.dirty.add(pack)
      if (pack >= this.active) {
        this.active = pack
        // A pack shorter than committed lost data (verify reports the blocks): never append after a hole.
        this.activeEnd = size < end ? this.maxPackBytes : end
      }
    }
    if (recovered.length > 0) await this.commit({ added: recovered })
    this.recoveredOnOpen.blocks = recovered.length
    this.recoveredOnOpen.bytes = recovered.reduce((sum, { location }) => sum + location.length, 0)
    if (this.active === 0 || this.activeEnd >= this.maxPackBytes) await this.startPack()
  }

  /**
   * The sound records of a pack from `from` on that the index lacks (and `seen`
   * has not met in an earlier tail), and the end of the last of them (`from`
   * when there is none): what a restart keeps of a tail never committed.
   */
  private async recoverTail(
    handle: FileHandle,
    pack: number,
    from: number,
    seen: Set<string>,
  ): Promise<{ records: Appended[]; end: number }> {
    const scanned: Placed[] = []
    for await (const { cid, location } of scanPack(handle, pack, from)) {
      scanned.push({ key: cid.multihash.bytes, location })
    }
    const present = scanned.length === 0 ? [] : await this.db.blocks.hasMany(scanned.map(({ key }) => key))
    const records: Appended[] = []
    let end = from
    for (let i = 0; i < scanned.length; i++) {
      const id = keyId(scanned[i].key)
      if (present[i] || seen.has(id)) continue
      seen.add(id)
      records.push({ ...scanned[i], unchecked: false })
      end = scanned[i].location.offset + scanned[i].location.length
    }
    return { records, end }
  }

  private async startPack(): Promise<void> {
    const pack = this.active + 1
    const handle = await open(join(this.packDir, packName(pack)), 'w+')
    await handle.write(PACK_MAGIC, 0, PACK_MAGIC.byteLength, 0)
    this.handles.set(pack, handle)
    this.active = pack
    this.activeEnd = PACK_MAGIC.byteLength
    this.dirty.add(pack)
  }

  /** Runs `fn` with exclusive use of the pack writer. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock
    let release!: () => void
    this.lock = new Promise((resolve) => {
      release = resolve
    })
    await previous
    try {
      return await fn()
    } finally {
      release()
    }
  }

  async has(cid: CID, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    return this.db.blocks.has(cid.multihash.bytes)
  }

  async hasMany(cids: CID[], options?: AbortOptions): Promise<boolean[]> {
    options?.signal?.throwIfAborted()
    if (cids.length === 0) return []
    return this.db.blocks.hasMany(cids.map((cid) => cid.multihash.bytes))
  }

  /** Where the block's bytes are, or undefined. */
  async locate(cid: CID): Promise<Location | undefined> {
    const value = await this.db.blocks.get(cid.multihash.bytes)
    return value === undefined ? undefined : decodeLocation(value)
  }

  /** `locate` for many blocks in one index lookup. */
  async locateMany(cids: CID[]): Promise<Array<Location | undefined>> {
    if (cids.length === 0) return []
    const values = await this.db.blocks.getMany(cids.map((cid) => cid.multihash.bytes))
    return values.map((value) => (value === undefined ? undefined : decodeLocation(value)))
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    options?.signal?.throwIfAborted()
    const location = await this.locate(cid)
    if (location === undefined) throw new FerryError('ERR_NOT_FOUND', `block ${cid} is not in the store`)
    return this.read(location)
  }

  /** Reads bytes at a location; ERR_CORRUPT_BLOCK when the pack is shorter than the index says. */
  async read(location: Location): Promise<Uint8Array> {
    // Not zeroed first: readInto fills every byte or throws. A plain Uint8Array, not a Buffer (whose slice does not copy).
    const bytes = new Uint8Array(Buffer.allocUnsafeSlow(location.length).buffer, 0, location.length)
    return this.readInto(location, bytes)
  }

  /** Reads bytes at a location into the start of `target` (reused buffers: no allocation per read). */
  async readInto(location: Location, target: Uint8Array): Promise<Uint8Array> {
    const handle = this.handles.get(location.pack)
    if (handle === undefined) {
      throw new FerryError(
        'ERR_CORRUPT_BLOCK',
        `pack ${packName(location.pack)} is missing from ${this.packDir}`,
      )
    }
    const bytes = target.subarray(0, location.length)
    const { bytesRead } = await handle.read(bytes, 0, location.length, location.offset)
    if (bytesRead !== location.length) {
      throw new FerryError('ERR_CORRUPT_BLOCK', `pack ${packName(location.pack)} is truncated`)
    }
    return bytes
  }

  async put(block: Block, options?: AbortOptions): Promise<void> {
    for await (const _ of this.putMany([block], options)) {
      // drain
    }
  }

  putMany(source: AsyncIterable<Block> | Iterable<Block>, options?: AbortOptions): AsyncGenerator<CID> {
    return this.write(source, true, options)
  }

  /**
   * Like putMany, for blocks whose CIDs this process has just computed from
   * these very bytes (ingest): skips the second hash.
   */
  putHashed(source: AsyncIterable<Block> | Iterable<Block>, options?: PutHashedOptions): AsyncGenerator<CID> {
    return this.write(source, false, options)
  }

  /*
   * Pipelined: while one group is being appended and one flush (fsync +
   * index batch) is running, the next group is gathered from the source, so
   * disk waits do not stall whoever produces the blocks. CIDs are yielded in
   * input order once their flush has committed.
   */
  private async *write(
    source: AsyncIterable<Block> | Iterable<Block>,
    verify: boolean,
    options?: PutHashedOptions,
  ): AsyncGenerator<CID> {
    let group: Block[] = []
    let groupBytes = 0
    let done: CID[] = []
    let locations: Appended[] = []
    let unflushed = 0
    const defer = options?.deferCommit === true
    const knownMissing = options?.knownMissing === true
    const flushBytes = options?.flushBytes ?? this.flushBytes
    const maxGroupBytes = options?.groupBytes ?? GROUP_BYTES
    let appending: Promise<void> = Promise.resolve()
    let queued = 0
    let flushing: Promise<CID[]> | undefined
    /** Blocks this call appended but not yet committed: the index cannot see them yet. */
    const pending = new Set<string>()
    let pendingIds: string[] = []
    /** Resolves when this call's current batch is committed; other writers skipping our blocks wait on it. */
    let batch = deferred()
    /** Commits of other writers that hold blocks this batch skipped: awaited before this batch counts as durable. */
    let waits: Array<Promise<void>> = []

    const appendGroup = async (blocks: Block[]): Promise<void> => {
      const keys = blocks.map((block) => block.cid.multihash.bytes)
      let present: boolean[] | undefined
      if (!knownMissing) {
        this.lookups++
        try {
          present = await this.db.blocks.hasMany(keys)
        } finally {
          this.lookups--
        }
      }
      const fresh: Block[] = []
      for (let i = 0; i < blocks.length; i++) {
        if (present?.[i]) continue
        const id = keyId(keys[i])
        if (pending.has(id) || this.landedDuringLookups.has(id)) continue
        const elsewhere = this.uncommitted.get(id)
        if (elsewhere !== undefined) {
          waits.push(elsewhere)
          continue
        }
        pending.add(id)
        pendingIds.push(id)
        this.uncommitted.set(id, batch.promise)
        fresh.push(blocks[i])
      }
      if (this.lookups === 0) this.landedDuringLookups.clear()
      for (const placed of await this.append(fresh, knownMissing)) {
        locations.push(placed)
        unflushed += placed.location.length
      }
      for (const block of blocks) done.push(block.cid)
      options?.onStored?.(blocks)
    }

    /**
     * Queues the gathered group behind earlier appends, taking it at once, and
     * returns the queue as it was before (await it for backpressure). When the
     * appender goes idle with blocks gathered meanwhile, it takes them without
     * waiting for the next block: a producer blocked on buffers those blocks
     * hold must not wait for a group to fill.
     */
    const startGroup = (): Promise<void> => {
      const previous = appending
      const blocks = group
      group = []
      groupBytes = 0
      if (blocks.length === 0) return previous
      queued++
      appending = previous
        .then(() => appendGroup(blocks))
        .finally(() => {
          queued--
          if (queued === 0 && group.length > 0) void startGroup()
        })
      appending.catch(() => {}) // surfaced by the flush that awaits it
      return previous
    }

    /** Takes what was appended since the last hand-over, leaving a fresh batch behind. */
    const takeBatch = (): PendingBatch & { cids: CID[]; bytes: number } => {
      const taken = { locations, batches: [{ batch, ids: pendingIds }], waits, cids: done, bytes: unflushed }
      batch = deferred()
      locations = []
      done = []
      pendingIds = []
      waits = []
      unflushed = 0
      return taken
    }

    /** Starts a flush of everything appended so far; returns the CIDs it makes durable. */
    const startFlush = async (): Promise<CID[]> => {
      // The batch is taken once the append in flight lands, but counts as started now: otherwise
      // the next block still finds a flush-size unflushed and waits for this very flush to be
      // durable, instead of gathering the next batch while it runs (faster sync: see
      // bench/history/source-notes-packs.md).
      unflushed = 0
      await appending
      const taken = takeBatch()
      const committed = this.commitBatch(taken).then(() => {
        for (const id of taken.batches[0].ids) pending.delete(id)
        return taken.cids
      })
      committed.catch(() => {}) // awaited below; avoid an unhandled rejection meanwhile
      return committed
    }

    /** With deferCommit: hands what was appended to the store's next flush(); returns the CIDs (appended, not durable). */
    const handOff = async (): Promise<CID[]> => {
      await appending
      const taken = takeBatch()
      this.awaitingFlush.locations.push(...taken.locations)
      this.awaitingFlush.batches.push(...taken.batches)
      this.awaitingFlush.waits.push(...taken.waits)
      this.deferredBytes += taken.bytes
      // Start writeback early, in the background: the final flush then has little left to wait for.
      if (this.deferredBytes >= this.flushBytes) void this.flush().catch(() => {})
      return taken.cids
    }

    const iterator = (
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
    ) as AsyncIterator<Block> | Iterator<Block>
    try {
      for (;;) {
        // An idle appender takes what has gathered before we wait for the next block.
        if (queued === 0 && group.length > 0) void startGroup()
        const step = await iterator.next()
        if (step.done) break
        const block = step.value
        options?.signal?.throwIfAborted()
        if (block.bytes.byteLength > MAX_RECORD_DATA) {
          throw new FerryError(
            'ERR_INVALID_ARGUMENT',
            `block ${block.cid} is ${block.bytes.byteLength} bytes, over the limit`,
          )
        }
        if (verify) assertBlock(block.cid, block.bytes)
        group.push(block)
        groupBytes += block.bytes.byteLength
        if (groupBytes >= maxGroupBytes || group.length >= GROUP_BLOCKS) await startGroup()
        if (unflushed >= flushBytes) {
          if (defer) {
            yield* await handOff()
            continue
          }
          const previous = flushing
          flushing = undefined
          if (previous !== undefined) yield* await previous
          flushing = startFlush()
        }
      }
      startGroup()
      await appending
      if (defer) {
        yield* await handOff()
        return
      }
      if (flushing !== undefined) yield* await flushing
      flushing = undefined
      yield* await startFlush()
    } finally {
      // On error or early return, let in-flight work settle before the caller moves on.
      await appending.catch(() => {})
      await flushing?.catch(() => {})
      if (iterator.return !== undefined) await iterator.return()
    }
  }

  /**
   * Appends records (one writev per pack) and returns where each block landed,
   * marked `unchecked` as asked (see Appended). Not yet durable.
   */
  private async append(blocks: Block[], unchecked = false): Promise<Appended[]> {
    if (blocks.length === 0) return []
    return this.exclusive(async () => {
      const out: Appended[] = []
      let buffers: Uint8Array[] = []
      let start = this.activeEnd
      for (const block of blocks) {
        const header = encodeRecordHeader(block.cid, block.bytes.byteLength)
        const recordBytes = header.byteLength + block.bytes.byteLength
        if (this.activeEnd + recordBytes > this.maxPackBytes && this.activeEnd > PACK_MAGIC.byteLength) {
          await this.writeAt(buffers, start)
          buffers = []
          await this.startPack()
          start = this.activeEnd
        }
        buffers.push(header, block.bytes)
        this.writtenBlocks++
        this.writtenBytes += block.bytes.byteLength
        out.push({
          key: block.cid.multihash.bytes,
          location: {
            pack: this.active,
            offset: this.activeEnd + header.byteLength,
            length: block.bytes.byteLength,
          },
          unchecked,
        })
        this.activeEnd += recordBytes
      }
      await this.writeAt(buffers, start)
      return out
    })
  }

  private async writeAt(buffers: Uint8Array[], position: number): Promise<void> {
    if (buffers.length === 0) return
    const handle = this.handles.get(this.active)!
    // writev takes at most IOV_MAX (1024) buffers per call.
    for (let i = 0; i < buffers.length; i += 1024) {
      const slice = buffers.slice(i, i + 1024)
      const { bytesWritten } = await handle.writev(slice, position)
      const expected = slice.reduce((sum, b) => sum + b.byteLength, 0)
      if (bytesWritten !== expected) throw new FerryError('ERR_IO', `short write to ${packName(this.active)}`)
      position += bytesWritten
    }
    this.dirty.add(this.active)
  }

  /**
   * fsyncs every pack written since the last commit, then applies `change`
   * and records the pack ends and live counts in one batch. Only the snapshot
   * of what was written takes the writer's lock; the fsync runs outside it,
   * so appends go on meanwhile (an fsync covers every write completed before
   * it). Commits run one after another, so pack ends are recorded in order and
   * each sees the index as the previous one left it.
   */
  private commit(change: IndexChange): Promise<void> {
    const run = this.committing
      .catch(() => {})
      .then(async () => {
        const written = await this.exclusive(async () => {
          const packs = [...this.dirty].map((pack) => ({
            pack,
            end: pack === this.active ? this.activeEnd : undefined,
          }))
          this.dirty.clear()
          return packs
        })
        const ops: BatchOp[] = []
        for (const { pack, end } of written) {
          const handle = this.handles.get(pack)!
          await handle.sync()
          // A pack no longer active is complete: its file size is its end.
          const committedEnd = end ?? (await handle.stat()).size
          ops.push(putOp(this.db.packs, packKey(pack), committedEnd))
        }
        const deltas = await this.indexOps(change, ops)
        const changed = this.applyLive(deltas, 1)
        for (const pack of changed) ops.push(putOp(this.db.live, packKey(pack), this.live.get(pack)!))
        if (ops.length === 0) return
        try {
          await writeBatch(this.db.root, ops)
        } catch (err) {
          this.applyLive(deltas, -1)
          throw err
        }
      })
    this.committing = run
    return run
  }

  /** Adds the index operations of `change` to `ops`; returns how each pack's live count changes. */
  private async indexOps(change: IndexChange, ops: BatchOp[]): Promise<Map<number, LiveCount>> {
    const deltas = new Map<number, LiveCount>()
    const count = (location: Location, sign: 1 | -1) => {
      const delta = deltas.get(location.pack) ?? { blocks: 0, bytes: 0 }
      delta.blocks += sign
      delta.bytes += sign * location.length
      deltas.set(location.pack, delta)
    }
    const added = change.added ?? []
    const unchecked = added.filter((entry) => entry.unchecked)
    // Looked up here, on the commit chain, where no other change of the index can come in
    // between: an unchecked block some other writer committed first keeps its first location,
    // and is counted once.
    const present =
      unchecked.length === 0 ? [] : await this.db.blocks.hasMany(unchecked.map(({ key }) => key))
    const committedFirst = new Set(unchecked.filter((_, i) => present[i]))
    for (const entry of added) {
      if (committedFirst.has(entry)) continue
      ops.push(putOp(this.db.blocks, entry.key, encodeLocation(entry.location)))
      count(entry.location, 1)
    }
    for (const { key, location, from } of change.moved ?? []) {
      ops.push(putOp(this.db.blocks, key, encodeLocation(location)))
      count(from, -1)
      count(location, 1)
    }
    const removed = [...new Map((change.removed ?? []).map((key) => [keyId(key), key])).values()]
    // Looked up here, on the commit chain: no other change of the index can come in between.
    const values = removed.length === 0 ? [] : await this.db.blocks.getMany(removed)
    for (let i = 0; i < removed.length; i++) {
      const value = values[i]
      if (value === undefined) continue
      ops.push(delOp(this.db.blocks, removed[i]))
      count(decodeLocation(value), -1)
    }
    return deltas
  }

  /** Adds (sign 1) or takes back (-1) live-count deltas; returns the packs they touch. */
  private applyLive(deltas: Map<number, LiveCount>, sign: 1 | -1): number[] {
    for (const [pack, delta] of deltas) {
      const live = this.live.get(pack) ?? { blocks: 0, bytes: 0 }
      this.live.set(pack, {
        blocks: live.blocks + sign * delta.blocks,
        bytes: live.bytes + sign * delta.bytes,
      })
    }
    return [...deltas.keys()]
  }

  /**
   * Makes everything appended with `deferCommit` durable: one fsync, one
   * index batch. Until then those blocks are invisible to readers (and other
   * writers of the same blocks wait for this).
   */
  flush(): Promise<void> {
    // Each flush takes what was deferred when it was called; flushes run one after another.
    const taken = this.awaitingFlush
    this.awaitingFlush = { locations: [], batches: [], waits: [] }
    this.deferredBytes = 0
    const run = this.flushing.catch(() => {}).then(() => this.commitBatch(taken))
    this.flushing = run
    return run
  }

  /**
   * Commits appended blocks, then settles their batches: other writers that
   * skipped these blocks were waiting on them. Resolves once the blocks this
   * batch skipped for other writers are committed too.
   */
  private async commitBatch(taken: PendingBatch): Promise<void> {
    const forget = () => {
      for (const { batch, ids } of taken.batches) {
        for (const id of ids) if (this.uncommitted.get(id) === batch.promise) this.uncommitted.delete(id)
      }
    }
    try {
      await this.commit({ added: taken.locations })
    } catch (err) {
      forget()
      for (const { batch } of taken.batches) batch.reject(err)
      throw err
    }
    // Now in the index: hasMany finds them from here on; a lookup already in flight may not.
    if (this.lookups > 0) {
      for (const { ids } of taken.batches) for (const id of ids) this.landedDuringLookups.add(id)
    }
    forget()
    for (const { batch } of taken.batches) batch.resolve()
    await Promise.all(taken.waits)
  }

  /** Blocks and bytes appended by this process so far (duplicates found before appending are skipped). */
  written(): { blocks: number; bytes: number } {
    return { blocks: this.writtenBlocks, bytes: this.writtenBytes }
  }

  async *getMany(cids: AsyncIterable<CID> | Iterable<CID>, options?: AbortOptions): AsyncGenerator<Block> {
    for await (const cid of cids) yield { cid, bytes: await this.get(cid, options) }
  }

  async delete(cid: CID, options?: AbortOptions): Promise<void> {
    await this.forget([cid.multihash.bytes], options)
  }

  /** Drops these blocks (by multihash) from the index in one batch; their bytes stay until compaction. */
  async forget(keys: Uint8Array[], options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    await this.commit({ removed: keys })
  }

  async *keys(options?: AbortOptions): AsyncGenerator<CID> {
    for await (const key of this.db.blocks.keys()) {
      options?.signal?.throwIfAborted()
      yield CID.createV1(RAW, Digest.decode(key))
    }
  }

  /** Every stored block with its location, in index order. */
  async *entries(options?: AbortOptions): AsyncGenerator<{ cid: CID; location: Location }> {
    for await (const [key, value] of this.db.blocks.iterator()) {
      options?.signal?.throwIfAborted()
      yield { cid: CID.createV1(RAW, Digest.decode(key)), location: decodeLocation(value) }
    }
  }

  /** Live and file bytes per pack: from the counts kept with the index, not a walk of it. */
  async usage(options?: AbortOptions): Promise<PackUsage[]> {
    const usage: PackUsage[] = []
    for (const [pack, handle] of this.handles) {
      options?.signal?.throwIfAborted()
      const live = this.live.get(pack)
      usage.push({
        pack,
        fileBytes: (await handle.stat()).size,
        liveBytes: live?.bytes ?? 0,
        liveBlocks: live?.blocks ?? 0,
      })
    }
    return usage.sort((a, b) => a.pack - b.pack)
  }

  /**
   * Counts the live blocks and bytes of every pack from the index itself and
   * replaces the kept counts with them: for a store written before the counts
   * were kept. One walk of the index; run it with no writer busy.
   */
  async recountLive(options?: AbortOptions): Promise<void> {
    const counted = new Map<number, LiveCount>()
    for await (const { location } of this.entries(options)) {
      const live = counted.get(location.pack) ?? { blocks: 0, bytes: 0 }
      live.blocks++
      live.bytes += location.length
      counted.set(location.pack, live)
    }
    const ops: BatchOp[] = []
    for await (const key of this.db.live.keys()) ops.push(delOp(this.db.live, key))
    for (const [pack, live] of counted) ops.push(putOp(this.db.live, packKey(pack), live))
    await writeBatch(this.db.root, ops)
    this.live.clear()
    for (const [pack, live] of counted) this.live.set(pack, live)
  }

  /**
   * Rewrites packs whose live share is below `minLiveRatio`: copies their live
   * blocks to the active pack, commits the new locations, then deletes the old
   * files. Returns the bytes reclaimed.
   */
  async compact(
    options: AbortOptions & { minLiveRatio?: number } = {},
  ): Promise<{ packsRemoved: number; bytesFreed: number }> {
    const minLiveRatio = options.minLiveRatio ?? 0.5
    const usage = await this.usage(options)
    const victims = new Set(
      usage
        .filter((u) => u.pack !== this.active && u.liveBytes < u.fileBytes * minLiveRatio)
        .map((u) => u.pack),
    )
    if (victims.size === 0) return { packsRemoved: 0, bytesFreed: 0 }
    let moved: Array<Placed & { from: Location }> = []
    let movedBytes = 0
    for await (const { cid, location } of this.entries(options)) {
      if (!victims.has(location.pack)) continue
      const bytes = await this.read(location)
      const [{ key, location: to }] = await this.append([{ cid, bytes }])
      moved.push({ key, location: to, from: location })
      movedBytes += bytes.byteLength
      if (movedBytes >= this.flushBytes) {
        await this.commit({ moved })
        moved = []
        movedBytes = 0
      }
    }
    await this.commit({ moved })
    let bytesFreed = 0
    for (const pack of victims) {
      const handle = this.handles.get(pack)!
      bytesFreed += (await handle.stat()).size
      await handle.close()
      this.handles.delete(pack)
      // Nothing lives there any more: every block was moved.
      await writeBatch(this.db.root, [
        delOp(this.db.packs, packKey(pack)),
        delOp(this.db.live, packKey(pack)),
      ])
      this.live.delete(pack)
      await rm(join(this.packDir, packName(pack)), { force: true })
    }
    return { packsRemoved: victims.size, bytesFreed }
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      for (const handle of this.handles.values()) await handle.close()
      this.handles.clear()
    })
  }
}
