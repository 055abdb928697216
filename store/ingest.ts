import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { type Arena, FRONT_BYTES, READ_BYTES } from './arena.js'
import type { AbortOptions, Block } from './blockstore.js'
import { scanCuts } from './chunker.js'
import { cidFromDigest, RAW } from './cid.js'
import { FileDagBuilder } from './file-dag.js'
import type { Hasher } from './hasher.js'
import type { PipelineComponents } from './pipeline.js'

export interface IngestOptions extends AbortOptions {
  /** Called with the number of bytes read so far. */
  onProgress?: (bytesRead: number) => void
}

export interface IngestResult {
  root: CID
  size: number
  /** sha256 of the whole content, hex. */
  sha256: string
}

/** Fills `target[offset..offset+length)` as far as the source allows; returns bytes read (short only at the end). */
type ReadInto = (target: Uint8Array, offset: number, length: number) => Promise<number>

const HASH_WINDOW = 3

/**
 * Reads, chunks and hashes a byte source into raw blocks, in order. The main
 * thread reads (prefetching the next slot) and finds cut points; the hashing
 * thread computes chunk digests and the whole-file sha256 from the same
 * shared memory. A slot's uncut tail is copied to the front of the next slot,
 * so no chunk is assembled from pieces.
 */
async function* hashedChunks(
  read: ReadInto,
  arena: Arena,
  hasher: Hasher,
  job: number,
  options: IngestOptions,
): AsyncGenerator<Block> {
  const inFlight: Array<Promise<Block[]>> = []
  let slot = await arena.acquire()
  let base = arena.offset(slot)
  let filled = await read(arena.view(base + FRONT_BYTES, READ_BYTES), 0, READ_BYTES)
  let carry = 0
  let total = filled
  let produced = false
  for (;;) {
    options.signal?.throwIfAborted()
    options.onProgress?.(total)
    const final = filled < READ_BYTES
    while (!final && !arena.hasFree() && inFlight.length > 0) {
      // Let the writer progress (and free slots) before waiting for one.
      for (const block of await inFlight.shift()!) yield block
      produced = true
    }
    const nextSlot = final ? undefined : await arena.acquire()
    const nextBase = nextSlot === undefined ? 0 : arena.offset(nextSlot)
    const nextRead =
      nextSlot === undefined ? undefined : read(arena.view(nextBase + FRONT_BYTES, READ_BYTES), 0, READ_BYTES)
    const start = base + FRONT_BYTES - carry
    const end = base + FRONT_BYTES + filled
    const cuts = scanCuts(arena.scanner, start, end, final)
    const tail = cuts.length > 0 ? cuts[cuts.length - 1] : start
    carry = end - tail
    if (nextSlot !== undefined && carry > 0)
      arena.scanner.bytes.copyWithin(nextBase + FRONT_BYTES - carry, tail, end)
    if (cuts.length > 0) {
      // One reference per block (dropped once written) and one until the whole-file hash has read the bytes.
      arena.retain(slot, cuts.length + 1)
      const hashed = slot
      hasher.update(job, arena, start, tail).then(
        () => arena.release(hashed),
        () => arena.release(hashed),
      )
      inFlight.push(
        hasher.chunks(arena, start, cuts).then((digests) => {
          let from = start
          return cuts.map((cut, i) => {
            const block = {
              cid: cidFromDigest(RAW, digests.subarray(i * 32, i * 32 + 32)),
              bytes: arena.view(from, cut - from),
            }
            from = cut
            return block
          })
        }),
      )
    }
    arena.release(slot)
    while (inFlight.length > (final ? 0 : HASH_WINDOW - 1)) {
      for (const block of await inFlight.shift()!) yield block
      produced = true
    }
    if (nextSlot === undefined || nextRead === undefined) break
    slot = nextSlot
    base = nextBase
    filled = await nextRead
    total += filled
  }
  if (!produced) {
    // The empty source is one empty raw block; its digest is also the whole-file hash.
    const empty = createHash('sha256').digest()
    yield { cid: cidFromDigest(RAW, empty), bytes: new Uint8Array(0) }
  }
}

/**
 * Chunks, hashes and stores a byte source as a file DAG, streaming: memory
 * holds one arena of read slots and one index level per 8192 chunks, never the file.
 */
async function ingest(pipeline: PipelineComponents, read: ReadInto, options: IngestOptions): Promise<IngestResult> {
  const { blockstore, hasher, arenas } = pipeline
  const arena = arenas.acquire()
  const job = hasher.open()
  const builder = new FileDagBuilder()
  let finished: { root: CID; size: number } | undefined
  async function* blocks(): AsyncGenerator<Block> {
    for await (const block of hashedChunks(read, arena, hasher, job, options)) {
      yield block
      yield* builder.add(block.cid, block.bytes.byteLength)
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
    for await (const _ of blockstore.putHashed(blocks(), { signal: options.signal, onStored })) {
      // Each CID is durable once yielded.
    }
  } finally {
    sha256 = await hasher.finish(job)
  }
  arenas.release(arena)
  if (finished === undefined) throw new Error('unreachable: ingest produced no root')
  return { ...finished, sha256: finished.size === 0 ? createHash('sha256').digest('hex') : sha256 }
}

/** Ingests a file from disk. */
export async function ingestFile(
  pipeline: PipelineComponents,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const handle = await open(path, 'r')
  try {
    const read: ReadInto = async (target, offset, length) => {
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(target, offset + done, length - done, null)
        if (bytesRead === 0) break
        done += bytesRead
      }
      return done
    }
    return await ingest(pipeline, read, options)
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
  const iterator = (
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  ) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>
  let piece: Uint8Array = new Uint8Array(0)
  let ended = false
  const read: ReadInto = async (target, offset, length) => {
    let done = 0
    while (done < length) {
      if (piece.byteLength === 0) {
        if (ended) break
        const next = await iterator.next()
        if (next.done) {
          ended = true
          break
        }
        piece = next.value
        continue
      }
      const n = Math.min(piece.byteLength, length - done)
      target.set(piece.subarray(0, n), offset + done)
      piece = piece.subarray(n)
      done += n
    }
    return done
  }
  return ingest(pipeline, read, options)
}
