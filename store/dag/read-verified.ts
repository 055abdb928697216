import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '../blocks/blockstore.js'
import { FerryError } from '../errors.js'
import type { Hasher } from '../ingest/hasher.js'
import type { Location } from '../packs/format.js'
import type { PackBlockstore } from '../packs/pack-blockstore.js'
import type { ReadBudget, ReadToken } from '../packs/read-budget.js'
import { MAX_RUN_BYTES, runEnd } from '../packs/read-runs.js'
import { fileLeaves, type FileLeaf as Leaf } from './file-leaves.js'
import { FileNodeCache } from './file-node-cache.js'

/** What the verified reader needs of a store: its packs, its hashing threads, and (shared) decoded file nodes. */
export interface VerifiedReadComponents {
  blocks: PackBlockstore
  hasher: Hasher
  /** Decoded index nodes shared with other readers. @default a cache of this read's own */
  fileNodes?: FileNodeCache
}

export interface VerifiedReadOptions extends AbortOptions {
  /** First byte. @default 0 */
  offset?: number
  /** Bytes from `offset`. @default to the end */
  length?: number
  /** Runs in flight shared with other readers; each run holds a token until its bytes were taken. @default unbounded */
  budget?: ReadBudget
}

/** Leaves a batch: one index lookup for all of them (a few hundred KiB of locations). */
const LEAF_BATCH = 1024
/** Runs read and being hashed ahead of the one given (both hashing threads busy, one queued). */
const AHEAD = 3

/** The leaves of the file DAG at `root` overlapping `[start, end)`, in batches of LEAF_BATCH. */
async function* leafBatches(
  blocks: PackBlockstore,
  nodes: FileNodeCache,
  root: CID,
  start: number,
  end: number,
  options: AbortOptions,
): AsyncGenerator<Leaf[]> {
  let batch: Leaf[] = []
  for await (const leaf of fileLeaves(blocks, root, { ...options, start, end, nodes })) {
    batch.push(leaf)
    if (batch.length === LEAF_BATCH) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

/** A run of blocks read and verified: its bytes and where each block lies in them. */
interface VerifiedRun {
  bytes: Uint8Array
  blocks: Array<{ leaf: Leaf; from: number; to: number }>
  token?: ReadToken
}

/** A run's verified pieces; `done()` once they are no longer needed (sent), so that its buffer may be reused. */
export interface VerifiedPieces {
  pieces: Uint8Array[]
  /** Gives the run's token back; with `reuse` false (a response cut short), not its buffer. Once is enough. */
  done(reuse?: boolean): void
}

/**
 * Streams the bytes `[offset, offset + length)` of the file DAG at `root`,
 * every block verified against its CID before any of its bytes is yielded:
 * the leaves' locations are looked up a batch at a time, neighbouring blocks
 * are read with one read (`runEnd`'s rules), and each run is hashed on a
 * hashing thread (its buffer handed over and back, no copy) while the next
 * ones are read and the previous ones are sent. A block that does not match
 * is ERR_CORRUPT_BLOCK naming its CID; one the packs lack, ERR_NOT_FOUND.
 * Yielded views are never reused: a consumer may hold them.
 */
export async function* readFileVerified(
  components: VerifiedReadComponents,
  root: CID,
  options: VerifiedReadOptions = {},
): AsyncGenerator<Uint8Array> {
  for await (const run of readFileVerifiedRuns(components, root, { ...options, reuseBuffers: false })) {
    try {
      yield* run.pieces
    } finally {
      run.done()
    }
  }
}

/**
 * {@link readFileVerified}, a run's pieces at a time, for a writer that
 * sends them with one system call (a socket's writev). With `reuseBuffers`
 * and a budget, a run's buffer goes back to the budget when `done()` is
 * called, to be read into again: call it only once nothing refers to the
 * pieces any more (the socket has taken them). Runs never `done()` (the
 * consumer stopped) give their tokens back, but not their buffers.
 */
export async function* readFileVerifiedRuns(
  components: VerifiedReadComponents,
  root: CID,
  options: VerifiedReadOptions & { reuseBuffers?: boolean } = {},
): AsyncGenerator<VerifiedPieces> {
  const { blocks, hasher } = components
  const budget = options.budget
  const reuse = options.reuseBuffers === true && budget !== undefined
  const start = options.offset ?? 0
  const end = options.length === undefined ? Number.POSITIVE_INFINITY : start + options.length
  if (start < 0 || end < start)
    throw new FerryError('ERR_INVALID_ARGUMENT', `bad range ${start}+${options.length}`)

  /** Reads blocks `[first, last)` (one run) into the token's buffer or a new one, and verifies them. */
  const readAndVerify = async (
    leaves: Leaf[],
    locations: Location[],
    first: number,
    last: number,
    token: ReadToken | undefined,
  ): Promise<VerifiedRun> => {
    const offset = locations[first].offset
    const length = locations[last - 1].offset + locations[last - 1].length - offset
    const own =
      reuse && token?.buffer !== undefined && token.buffer.byteLength >= length ? token.buffer : undefined
    const target = new Uint8Array(
      own ?? new ArrayBuffer(reuse ? Math.max(MAX_RUN_BYTES, length) : length),
      0,
      length,
    )
    await blocks.readInto({ pack: locations[first].pack, offset, length }, target)
    const ranges: number[] = []
    const placed: VerifiedRun['blocks'] = []
    for (let i = first; i < last; i++) {
      const from = locations[i].offset - offset
      ranges.push(from, from + locations[i].length)
      placed.push({ leaf: leaves[i], from, to: from + locations[i].length })
    }
    const { digests, buffer } = await hasher.owned(target.buffer as ArrayBuffer, ranges)
    // The buffer came back: the token owns it again (or the budget drops it, when not reused).
    if (token !== undefined) token.buffer = buffer
    for (const [j, block] of placed.entries()) {
      if (Buffer.compare(block.leaf.cid.multihash.digest, digests.subarray(j * 32, j * 32 + 32)) !== 0) {
        throw new FerryError('ERR_CORRUPT_BLOCK', `block ${block.leaf.cid} does not match its hash`, {
          details: { cid: block.leaf.cid.toString() },
        })
      }
    }
    return { bytes: new Uint8Array(buffer), blocks: placed, token }
  }

  const piecesOf = (run: VerifiedRun): Uint8Array[] => {
    const pieces: Uint8Array[] = []
    for (const { leaf, from, to } of run.blocks) {
      const first = Math.max(from, from + (start - leaf.offset))
      const last = Math.min(to, from + (end - leaf.offset))
      if (last > first) pieces.push(run.bytes.subarray(first, last))
    }
    return pieces
  }

  const nodes = components.fileNodes ?? new FileNodeCache(4)
  for await (const leaves of leafBatches(blocks, nodes, root, start, end, options)) {
    const found = await blocks.locateMany(leaves.map((leaf) => leaf.cid))
    const missing = found.indexOf(undefined)
    if (missing >= 0) {
      throw new FerryError('ERR_NOT_FOUND', `block ${leaves[missing].cid} is not in the store`, {
        details: { cid: leaves[missing].cid.toString() },
      })
    }
    const locations = found as Location[]
    const inFlight: Array<{ run: Promise<VerifiedRun>; token?: ReadToken }> = []
    // Gives the oldest run to the consumer; its token goes back when the consumer says done (or, unused, now).
    async function* next(): AsyncGenerator<VerifiedPieces> {
      const { run, token } = inFlight.shift() as (typeof inFlight)[number]
      let given = false
      try {
        const verified = await run
        const pieces = piecesOf(verified)
        if (pieces.length === 0) return
        given = true
        let released = false
        yield {
          pieces,
          done: (again = true) => {
            if (released) return
            released = true
            if (token !== undefined) budget?.release(token, reuse && again)
          },
        }
      } finally {
        if (!given && token !== undefined) budget?.release(token, false)
      }
    }
    let at = 0
    try {
      while (at < locations.length) {
        options.signal?.throwIfAborted()
        let token: ReadToken | undefined
        if (budget !== undefined) {
          // Holding runs, let the consumer take them before waiting for a token.
          while (inFlight.length > 0 && !budget.available()) yield* next()
          token = await budget.acquire(options)
        }
        const last = runEnd(locations, at)
        const run = readAndVerify(leaves, locations, at, last, token)
        run.catch(() => {}) // surfaced in order below
        inFlight.push({ run, token })
        at = last
        if (inFlight.length >= AHEAD) yield* next()
      }
      while (inFlight.length > 0) yield* next()
    } finally {
      // Stopped early (an abort, a damaged block): runs never given out give their tokens back, not their buffers.
      for (const { run, token } of inFlight.splice(0)) {
        run.catch(() => {})
        if (token !== undefined) budget?.release(token, false)
      }
    }
  }
}
