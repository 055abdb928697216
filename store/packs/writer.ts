import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { assertBlock } from '../blocks/cid.js'
import { FerryError } from '../errors.js'
import type { PackAppender, Span } from './appender.js'
import { MAX_RECORD_DATA } from './format.js'
import type { Appended } from './index-change.js'
import { type Claims, deferred, type PendingBatch, type PendingWrites } from './pending-writes.js'

export interface PutHashedOptions extends AbortOptions {
  /**
   * Called once the bytes of these blocks have been handed to the file system
   * (written or found present), so a caller may reuse their buffers. Not yet durable.
   * Also called with the blocks of a group that failed to be written (the write then throws).
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

const GROUP_BYTES = 8 * 1024 * 1024
const GROUP_BLOCKS = 512

/** What a write works with. */
export interface WriterParts {
  appender: PackAppender
  pending: PendingWrites
  /** The store's flushBytes: make writes durable every this many bytes. */
  flushBytes: number
}

/**
 * Writes `source` into the packs (PackBlockstore.putMany and putHashed),
 * skipping blocks the index or another writer holds; `verify` re-hashes each
 * block against its CID first.
 *
 * Pipelined: while one group is being appended and one flush (fsync +
 * index batch) is running, the next group is gathered from the source, so
 * disk waits do not stall whoever produces the blocks. CIDs are yielded in
 * input order once their flush has committed.
 */
export async function* writeBlocks(
  parts: WriterParts,
  source: AsyncIterable<Block> | Iterable<Block>,
  verify: boolean,
  options?: PutHashedOptions,
): AsyncGenerator<CID> {
  let group: Block[] = []
  let groupBytes = 0
  let done: CID[] = []
  let locations: Appended[] = []
  /** The bytes of `locations`, given back to the pack should this write fail before they are taken. */
  let spans: Span[] = []
  let unflushed = 0
  const defer = options?.deferCommit === true
  const knownMissing = options?.knownMissing === true
  const flushBytes = options?.flushBytes ?? parts.flushBytes
  const maxGroupBytes = options?.groupBytes ?? GROUP_BYTES
  let appending: Promise<void> = Promise.resolve()
  let queued = 0
  let flushing: Promise<CID[]> | undefined
  const own: Claims = { pending: new Set(), batch: deferred(), ids: [], waits: [] }

  const appendGroup = async (blocks: Block[]): Promise<void> => {
    const fresh = await parts.pending.claim(blocks, knownMissing, own)
    for (const placed of await parts.appender.append(fresh, knownMissing, spans)) {
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
      .catch((err) => {
        // Not written, and never will be by this write: the producer may reuse their buffers (a
        // producer waiting for buffers these hold would otherwise wait for ever, not see the error).
        options?.onStored?.(blocks)
        throw err
      })
      .finally(() => {
        queued--
        if (queued === 0 && group.length > 0) void startGroup()
      })
    appending.catch(() => {}) // surfaced by the flush that awaits it
    return previous
  }

  /** Takes what was appended since the last hand-over, leaving a fresh batch behind. */
  const takeBatch = (): PendingBatch & { cids: CID[]; bytes: number } => {
    const taken = {
      locations,
      batches: [{ batch: own.batch, ids: own.ids }],
      waits: own.waits,
      cids: done,
      bytes: unflushed,
    }
    own.batch = deferred()
    own.ids = []
    own.waits = []
    locations = []
    spans = []
    done = []
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
    const committed = parts.pending.commit(taken).then(() => {
      for (const id of taken.batches[0].ids) own.pending.delete(id)
      return taken.cids
    })
    committed.catch(() => {}) // awaited below; avoid an unhandled rejection meanwhile
    return committed
  }

  /** With deferCommit: hands what was appended to the store's next flush(); returns the CIDs (appended, not durable). */
  const handOff = async (): Promise<CID[]> => {
    await appending
    const taken = takeBatch()
    parts.pending.defer(taken, taken.bytes)
    return taken.cids
  }

  const iterator = (
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  ) as AsyncIterator<Block> | Iterator<Block>
  let finished = false
  let failure: unknown
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
      const handed = await handOff()
      finished = true
      yield* handed
      return
    }
    if (flushing !== undefined) yield* await flushing
    flushing = undefined
    const last = await startFlush()
    finished = true
    yield* last
  } catch (err) {
    failure = err
    throw err
  } finally {
    // On error or early return, let in-flight work settle before the caller moves on. Blocks gathered
    // but not started are dropped first: an append landing would start them, claiming blocks after
    // the claims are released below.
    if (!finished) group = []
    for (let settled = appending; ; settled = appending) {
      await settled.catch(() => {})
      if (settled === appending) break
    }
    await flushing?.catch(() => {})
    // Bytes and claims no commit took must not fill the disk, nor hold up later writes of the same blocks
    // (a corrupt block in an archive's second slot: every later import of its first blocks waited for ever).
    if (!finished) await parts.appender.giveBack(spans).catch(() => {})
    if (!finished)
      parts.pending.release(own, failure ?? new FerryError('ERR_ABORTED', 'the write was given up'))
    if (iterator.return !== undefined) await iterator.return()
  }
}
