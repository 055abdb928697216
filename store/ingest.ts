import { createHash, webcrypto } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block } from './blockstore.js'
import { chunk } from './chunker.js'
import { cidFromDigest, RAW } from './cid.js'
import { FileDagBuilder } from './file-dag.js'
import type { PackBlockstore } from './pack-blockstore.js'

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

/** Chunk hashes in flight at once on libuv's thread pool. */
const HASH_WINDOW = 32
const READ_BYTES = 4 * 1024 * 1024

/**
 * Hashes chunks into raw blocks. The digests run on libuv's thread pool
 * (WebCrypto), so they overlap with chunking on the main thread; order is kept.
 */
async function* hashChunks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Block> {
  const window: Array<Promise<Block>> = []
  const hash = async (bytes: Uint8Array): Promise<Block> => {
    const digest = await webcrypto.subtle.digest('SHA-256', bytes)
    return { cid: cidFromDigest(RAW, new Uint8Array(digest)), bytes }
  }
  for await (const bytes of chunks) {
    window.push(hash(bytes))
    if (window.length >= HASH_WINDOW) yield await window.shift()!
  }
  while (window.length > 0) yield await window.shift()!
}

/**
 * Chunks, hashes and stores a byte stream as a file DAG, streaming: memory
 * holds a read buffer, the hash window and one index level, never the file.
 */
export async function ingestStream(
  blockstore: PackBlockstore,
  source: AsyncIterable<Uint8Array>,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const whole = createHash('sha256')
  let bytesRead = 0
  async function* tap(): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      options.signal?.throwIfAborted()
      whole.update(piece)
      bytesRead += piece.byteLength
      options.onProgress?.(bytesRead)
      yield piece
    }
  }
  const builder = new FileDagBuilder()
  let result: { root: CID; size: number } | undefined
  async function* blocks(): AsyncGenerator<Block> {
    let any = false
    for await (const block of hashChunks(chunk(tap()))) {
      any = true
      yield block
      yield* builder.add(block.cid, block.bytes.byteLength)
    }
    if (!any) {
      // The empty file: one empty raw block.
      const empty = (await hashChunks([new Uint8Array(0)]).next()).value as Block
      yield empty
      yield* builder.add(empty.cid, 0)
    }
    const finished = builder.finish()
    result = { root: finished.root, size: finished.size }
    yield* finished.blocks
  }
  for await (const _ of blockstore.putHashed(blocks(), options)) {
    // Each CID is durable once yielded.
  }
  if (result === undefined) throw new Error('unreachable: ingest produced no root')
  return { ...result, sha256: whole.digest('hex') }
}

/** Ingests a file from disk. */
export function ingestFile(
  blockstore: PackBlockstore,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const stream = createReadStream(path, { highWaterMark: READ_BYTES, signal: options.signal })
  return ingestStream(blockstore, stream, options)
}
