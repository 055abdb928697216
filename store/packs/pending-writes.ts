import type { Block } from '../blocks/blockstore.js'
import type { StoreDb } from '../db/db.js'
import type { Committer } from './commit.js'
import type { Appended } from './index-change.js'
import { keyId } from './key-id.js'

/** A promise with its settlers at hand. */
export interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

/** A promise to settle later; its rejection is left to whoever awaits it. */
export function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {}) // a failed commit is reported by its own writer
  return { promise, resolve, reject }
}

/** Appended blocks waiting for their index commit, and whom to tell when it lands. */
export interface PendingBatch {
  locations: Appended[]
  /** Each writer's batch promise and the blocks it claimed in `uncommitted`. */
  batches: Array<{ batch: Deferred; ids: string[] }>
  /** Other writers' commits holding blocks these skipped. */
  waits: Array<Promise<void>>
}

/** One writer's claims on the blocks it appends. */
export interface Claims {
  /** Blocks this writer appended but not yet committed: the index cannot see them yet. */
  pending: Set<string>
  /** Resolves when the writer's current batch is committed; other writers skipping its blocks wait on it. */
  batch: Deferred
  /** The blocks of the current batch claimed in `uncommitted`. */
  ids: string[]
  /** Commits of other writers that hold blocks this batch skipped: awaited before it counts as durable. */
  waits: Array<Promise<void>>
}

/** What the writers share. */
export interface PendingWritesParts {
  db: StoreDb
  committer: Committer
  /** Start a background flush once this many deferred bytes have gathered. */
  flushBytes: number
}

/**
 * What concurrent writers of one store know of each other's appended, not
 * yet committed blocks, so that no block is appended twice, and none counts
 * as durable before the commit holding it has landed. Also gathers the
 * batches written with `deferCommit` until `flush()`.
 */
export class PendingWrites {
  /** Blocks appended by some writer and not yet committed, with that writer's commit. */
  private readonly uncommitted = new Map<string, Promise<void>>()
  /** Appended with deferCommit, waiting for flush(). */
  private awaitingFlush: PendingBatch = { locations: [], batches: [], waits: [] }
  private deferredBytes = 0
  /** The last flush started (flushes are chained). */
  private flushing: Promise<void> = Promise.resolve()
  /** Index lookups of the write path in flight (see `landedDuringLookups`). */
  private lookups = 0
  /**
   * Blocks committed while a write-path lookup was in flight: that lookup may
   * have missed them, and must not append them again. Emptied when no lookup is.
   */
  private readonly landedDuringLookups = new Set<string>()

  constructor(private readonly parts: PendingWritesParts) {}

  /**
   * The blocks of `blocks` a writer is to append, claimed for it in `own`:
   * those the index lacks (looked up, unless `knownMissing`), that the writer
   * has not appended already and that no other writer holds uncommitted (the
   * commits of those go into `own.waits`).
   */
  async claim(blocks: Block[], knownMissing: boolean, own: Claims): Promise<Block[]> {
    const keys = blocks.map((block) => block.cid.multihash.bytes)
    let present: boolean[] | undefined
    if (!knownMissing) {
      this.lookups++
      try {
        present = await this.parts.db.blocks.hasMany(keys)
      } finally {
        this.lookups--
      }
    }
    const fresh: Block[] = []
    for (let i = 0; i < blocks.length; i++) {
      if (present?.[i]) continue
      const id = keyId(keys[i])
      if (own.pending.has(id) || this.landedDuringLookups.has(id)) continue
      const elsewhere = this.uncommitted.get(id)
      if (elsewhere !== undefined) {
        own.waits.push(elsewhere)
        continue
      }
      own.pending.add(id)
      own.ids.push(id)
      this.uncommitted.set(id, own.batch.promise)
      fresh.push(blocks[i])
    }
    if (this.lookups === 0) this.landedDuringLookups.clear()
    return fresh
  }

  /**
   * Gives up a writer's claims that were never handed to a commit (its append
   * failed, or it stopped early): other writers waiting on those blocks are
   * told with `reason`, and later writes may append them again. Without this,
   * a block claimed by a failed write stayed "in flight" for ever and every
   * later write of it waited for it (a daemon hung after one full disk).
   */
  release(own: Claims, reason: unknown): void {
    for (const id of own.ids) if (this.uncommitted.get(id) === own.batch.promise) this.uncommitted.delete(id)
    for (const id of own.ids) own.pending.delete(id)
    own.ids = []
    own.batch.reject(reason)
    own.batch = deferred()
  }

  /** Leaves `taken` (of `bytes` bytes) to the next flush(), starting one early once a flush-size has gathered. */
  defer(taken: PendingBatch, bytes: number): void {
    this.awaitingFlush.locations.push(...taken.locations)
    this.awaitingFlush.batches.push(...taken.batches)
    this.awaitingFlush.waits.push(...taken.waits)
    this.deferredBytes += bytes
    // Start writeback early, in the background: the final flush then has little left to wait for.
    if (this.deferredBytes >= this.parts.flushBytes) void this.flush().catch(() => {})
  }

  /** Commits everything deferred so far (see PackBlockstore.flush). */
  flush(): Promise<void> {
    // Each flush takes what was deferred when it was called; flushes run one after another.
    const taken = this.awaitingFlush
    this.awaitingFlush = { locations: [], batches: [], waits: [] }
    this.deferredBytes = 0
    const run = this.flushing.catch(() => {}).then(() => this.commit(taken))
    this.flushing = run
    return run
  }

  /**
   * Commits appended blocks, then settles their batches: other writers that
   * skipped these blocks were waiting on them. Resolves once the blocks this
   * batch skipped for other writers are committed too.
   */
  async commit(taken: PendingBatch): Promise<void> {
    const forget = () => {
      for (const { batch, ids } of taken.batches) {
        for (const id of ids) if (this.uncommitted.get(id) === batch.promise) this.uncommitted.delete(id)
      }
    }
    try {
      await this.parts.committer.commit({ added: taken.locations })
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
}
