import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block } from './blockstore.js'
import { scanCuts } from './chunker.js'
import { cidFromDigest, RAW } from './cid.js'
import { FileDagBuilder } from './file-dag.js'
import type { PipelineComponents } from './pipeline.js'
import { type ReadInto, readFromHandle, readFromStream, readSlots, type SlotParser } from './slot-reader.js'

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
  read: ReadInto,
  options: IngestOptions,
): Promise<IngestResult> {
  const { blockstore, hasher, ingestArenas: arenas } = pipeline
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
    for await (const _ of blockstore.putHashed(blocks(), { signal: options.signal, onStored })) {
      // Each CID is durable once yielded.
    }
  } finally {
    sha256 = await hasher.finish(job)
  }
  arenas.release(arena)
  if (finished === undefined) throw new Error('unreachable: ingest produced no root')
  return { ...finished, sha256 }
}

/** Ingests a file from disk. */
export async function ingestFile(
  pipeline: PipelineComponents,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const handle = await open(path, 'r')
  try {
    return await ingest(pipeline, readFromHandle(handle), options)
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
  return ingest(pipeline, readFromStream(source), options)
}
