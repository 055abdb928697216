import { createHash } from 'node:crypto'
import { type BigIntStats, closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { cidFor, cidFromDigest, RAW } from '../blocks/cid.js'
import { findCuts, scanCuts } from '../chunk/chunker.js'
import { FileDagBuilder } from '../dag/file-dag.js'
import { FerryError } from '../errors.js'
import type { ArenaPool } from './arena.js'
import type { PipelineComponents } from './pipeline.js'
import { type ReadInto, readFromHandle, readFromStream, readSlots, type SlotParser } from './slot-reader.js'

export interface IngestOptions extends AbortOptions {
  /** Called with the number of bytes read so far. */
  onProgress?: (bytesRead: number) => void
  /** Leave durability to the caller's `blockstore.flush()` (see PutHashedOptions). @default false */
  deferCommit?: boolean
}

export interface IngestResult {
  root: CID
  size: number
  /** sha256 of the whole content, hex. */
  sha256: string
}

const EMPTY_SHA256 = createHash('sha256').digest()

/**
 * Chunks, hashes and stores a byte source as a file DAG, streaming: memory
 * holds one arena of read slots and one index level per 8192 chunks, never
 * the file. The main thread reads and finds cut points (wasm, in place); one
 * hashing thread keeps the whole-file sha256, the other hashes chunks, both
 * from the same shared memory.
 */
async function ingest(
  pipeline: PipelineComponents,
  arenas: ArenaPool,
  read: ReadInto,
  options: IngestOptions,
): Promise<IngestResult> {
  const { blockstore, hasher } = pipeline
  const arena = arenas.acquire()
  const job = hasher.open()
  const builder = new FileDagBuilder()

  const cut: SlotParser<Block> = (slot, start, end, final) => {
    const cuts = scanCuts(arena.scanner, start, end, final)
    if (cuts.length === 0) return { tail: start }
    const tail = cuts[cuts.length - 1]
    // One reference per block (dropped once written) and one until the whole-file hash has read the bytes.
    arena.retain(slot, cuts.length + 1)
    const released = () => arena.release(slot)
    hasher.update(job, arena, start, tail).then(released, released)
    const items = hasher.chunks(arena, start, cuts).then((digests) => {
      let from = start
      return cuts.map((to, i) => {
        const block = {
          cid: cidFromDigest(RAW, digests.subarray(i * 32, i * 32 + 32)),
          bytes: arena.view(from, to - from),
        }
        from = to
        return block
      })
    })
    return { tail, items }
  }

  let finished: { root: CID; size: number } | undefined
  async function* blocks(): AsyncGenerator<Block> {
    for await (const block of readSlots(read, arena, cut, options)) {
      yield block
      yield* builder.add(block.cid, block.bytes.byteLength)
    }
    if (builder.isEmpty()) {
      // The empty source is one empty raw block.
      const empty = { cid: cidFromDigest(RAW, EMPTY_SHA256), bytes: new Uint8Array(0) }
      yield empty
      builder.add(empty.cid, 0)
    }
    const result = builder.finish()
    finished = { root: result.root, size: result.size }
    yield* result.blocks
  }
  const onStored = (stored: Block[]) => {
    for (const block of stored) {
      const slot = arena.slotOf(block.bytes)
      if (slot !== undefined) arena.release(slot)
    }
  }
  let sha256: string
  try {
    for await (const _ of blockstore.putHashed(blocks(), {
      signal: options.signal,
      onStored,
      deferCommit: options.deferCommit,
    })) {
      // Each CID is durable once yielded.
    }
  } finally {
    sha256 = await hasher.finish(job)
  }
  arenas.release(arena)
  if (finished === undefined) throw new Error('unreachable: ingest produced no root')
  return { ...finished, sha256 }
}

/**
 * Throws ERR_IO when a file changed while it was read (its size, mtime or
 * ctime moved, or the bytes read are not its size): what was read may match
 * neither the old content nor the new, and must not be published.
 */
function assertUnchanged(path: string, before: BigIntStats, after: BigIntStats, bytesRead: number): void {
  const changed =
    before.size !== after.size ||
    before.mtimeNs !== after.mtimeNs ||
    before.ctimeNs !== after.ctimeNs ||
    BigInt(bytesRead) !== after.size
  if (!changed) return
  throw new FerryError(
    'ERR_IO',
    `${path} changed while it was read (${before.size} → ${after.size} bytes, ${bytesRead} read): nothing published from it; run again once it is no longer written to`,
    { details: { path, changed: true } },
  )
}

/** Files up to this size are read whole and hashed on the main thread: no thread round trips per file. */
export const SMALL_FILE_BYTES = 1024 * 1024

/** The blocks of a file held in one buffer, with its root, size and whole-file sha256: same chunks, CIDs and DAG as streaming. */
function smallFileBlocks(bytes: Uint8Array): { blocks: Block[]; result: IngestResult } {
  const builder = new FileDagBuilder()
  const blocks: Block[] = []
  let from = 0
  for (const to of findCuts(bytes, 0, bytes.byteLength, true)) {
    const chunk = bytes.subarray(from, to)
    const block = { cid: cidFor(RAW, chunk), bytes: chunk }
    blocks.push(block, ...builder.add(block.cid, chunk.byteLength))
    from = to
  }
  if (builder.isEmpty()) {
    const empty = { cid: cidFromDigest(RAW, EMPTY_SHA256), bytes: new Uint8Array(0) }
    blocks.push(empty)
    builder.add(empty.cid, 0)
  }
  const { root, size, blocks: index } = builder.finish()
  blocks.push(...index)
  // One chunk: the whole-file hash is that chunk's digest.
  const digest = root.code === RAW ? root.multihash.digest : createHash('sha256').update(bytes).digest()
  return { blocks, result: { root, size, sha256: Buffer.from(digest).toString('hex') } }
}

/**
 * Reads a file of at most `limit` bytes whole into `target` (synchronously:
 * far cheaper than four thread-pool trips per file). Returns the bytes, or
 * undefined when the file is larger than `limit` or than `target`.
 */
function readSmallInto(
  path: string,
  limit: number,
  room: (size: number) => Uint8Array,
): Uint8Array | undefined {
  const fd = openSync(path, 'r')
  try {
    const before = fstatSync(fd, { bigint: true })
    const size = Number(before.size)
    if (size > limit) return undefined
    // One byte of room shows a file that grew since its size was taken.
    const target = room(size + 1)
    let done = 0
    for (;;) {
      const n = readSync(fd, target, done, target.byteLength - done, null)
      if (n === 0) break
      done += n
      if (done > size) return undefined
    }
    assertUnchanged(path, before, fstatSync(fd, { bigint: true }), done)
    return target.subarray(0, done)
  } finally {
    closeSync(fd)
  }
}

/**
 * Ingests many small files as one stream of blocks through one writer: the
 * per-file cost is a read and a hash or two, not a round of index lookups,
 * writes and thread messages per file. Files are read into the slots of an
 * arena, several to a slot, and the slots are reused once their blocks are
 * written: no buffer per file for the collector. Files that turn out larger
 * than SMALL_FILE_BYTES (grown since listed) are ingested by streaming.
 */
export async function ingestSmallFiles(
  pipeline: PipelineComponents,
  paths: string[],
  options: IngestOptions = {},
): Promise<IngestResult[]> {
  const arena = pipeline.ingestArenas.acquire()
  const results: Array<IngestResult | undefined> = new Array(paths.length)
  const grown: number[] = []
  let bytesRead = 0
  let slot = -1
  let used = 0
  async function* blocks(): AsyncGenerator<Block> {
    for (const [i, path] of paths.entries()) {
      options.signal?.throwIfAborted()
      // Files are taken a slot at a time; a slot full up is handed on and a fresh one awaited.
      if (slot < 0 || arena.slotBytes - used < SMALL_FILE_BYTES + 1) {
        if (slot >= 0) arena.release(slot)
        slot = await arena.acquire()
        used = 0
      }
      const base = arena.offset(slot) + used
      const bytes = readSmallInto(path, SMALL_FILE_BYTES, (size) => arena.view(base, size))
      if (bytes === undefined) {
        grown.push(i)
        continue
      }
      used += bytes.byteLength
      const { blocks: fileBlocks, result } = smallFileBlocks(bytes)
      // One reference per block cut from the slot, dropped once that block is written.
      const inSlot = fileBlocks.filter((block) => arena.slotOf(block.bytes) === slot).length
      if (inSlot > 0) arena.retain(slot, inSlot)
      results[i] = result
      bytesRead += bytes.byteLength
      options.onProgress?.(bytesRead)
      yield* fileBlocks
    }
    if (slot >= 0) arena.release(slot)
    slot = -1
  }
  const onStored = (stored: Block[]) => {
    for (const block of stored) {
      const held = arena.slotOf(block.bytes)
      if (held !== undefined) arena.release(held)
    }
  }
  for await (const _ of pipeline.blockstore.putHashed(blocks(), {
    signal: options.signal,
    deferCommit: options.deferCommit,
    onStored,
  })) {
    // durable once yielded (or at flush, with deferCommit)
  }
  pipeline.ingestArenas.release(arena)
  for (const i of grown) results[i] = await ingestFile(pipeline, paths[i], options)
  return results as IngestResult[]
}

/** Ingests a file from disk. */
export async function ingestFile(
  pipeline: PipelineComponents,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const handle = await open(path, 'r')
  try {
    const before = await handle.stat({ bigint: true })
    const result = await ingest(pipeline, pipeline.ingestArenas, readFromHandle(handle), options)
    assertUnchanged(path, before, await handle.stat({ bigint: true }), result.size)
    return result
  } finally {
    await handle.close()
  }
}

/** Ingests any byte stream (its buffers are copied into the read slots). */
export function ingestStream(
  pipeline: PipelineComponents,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: IngestOptions = {},
): Promise<IngestResult> {
  return ingest(pipeline, pipeline.streamArenas, readFromStream(source), options)
}
