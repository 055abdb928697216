import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '../blocks/blockstore.js'
import { assertBlock, RAW } from '../blocks/cid.js'
import { FerryError } from '../errors.js'
import type { Hasher } from '../ingest/hasher.js'
import type { Location } from '../packs/format.js'
import type { PackBlockstore } from '../packs/pack-blockstore.js'
import type { ReadBudget } from '../packs/read-budget.js'
import { readRuns } from '../packs/read-runs.js'
import { fileNode } from './nodes/index.js'

/** What the verified reader needs of a store: its packs and its hashing threads. */
export interface VerifiedReadComponents {
  blocks: PackBlockstore
  hasher: Hasher
}

export interface VerifiedReadOptions extends AbortOptions {
  /** First byte. @default 0 */
  offset?: number
  /** Bytes from `offset`. @default to the end */
  length?: number
  /** Runs in flight shared with other readers; each run holds a token until its bytes were taken. @default unbounded */
  budget?: ReadBudget
}

/** A leaf of a file DAG: its CID and where its bytes start in the file. */
interface Leaf {
  cid: CID
  base: number
}

/** Leaves a batch: one index lookup for all of them. */
const LEAF_BATCH = 4096
/** Runs read and being hashed ahead of the one given (both hashing threads busy, one queued). */
const AHEAD = 3

/** The leaves of the file DAG at `root` whose bytes overlap `[start, end)`, in order, in batches. */
async function* leafBatches(
  blocks: PackBlockstore,
  root: CID,
  start: number,
  end: number,
  options: AbortOptions,
): AsyncGenerator<Leaf[]> {
  if (root.code === RAW) {
    yield [{ cid: root, base: 0 }]
    return
  }
  let batch: Leaf[] = []
  async function* walk(cid: CID, base: number): AsyncGenerator<Leaf[]> {
    options.signal?.throwIfAborted()
    const bytes = await blocks.get(cid, options)
    assertBlock(cid, bytes)
    let offset = base
    for (const [child, size] of fileNode.decode(cid, bytes).links) {
      if (offset >= end) break
      if (offset + size > start) {
        if (child.code === RAW) {
          batch.push({ cid: child, base: offset })
          if (batch.length === LEAF_BATCH) {
            yield batch
            batch = []
          }
        } else {
          yield* walk(child, offset)
        }
      }
      offset += size
    }
  }
  yield* walk(root, 0)
  if (batch.length > 0) yield batch
}

/** A run of blocks read and verified: its bytes and where each block lies in them. */
interface VerifiedRun {
  bytes: Uint8Array
  blocks: Array<{ leaf: Leaf; from: number; to: number }>
}

/**
 * Streams the bytes `[offset, offset + length)` of the file DAG at `root`,
 * every block verified against its CID before any of its bytes is yielded:
 * the leaves' locations are looked up a batch at a time, neighbouring blocks
 * are read with one read (readRuns), and each run is hashed on a hashing
 * thread (its buffer handed over and back, no copy) while the next ones are
 * read and the previous ones are sent. A block that does not match is
 * ERR_CORRUPT_BLOCK naming its CID; one the packs lack, ERR_NOT_FOUND.
 * Yielded views are never reused: a consumer may hold them.
 */
export async function* readFileVerified(
  components: VerifiedReadComponents,
  root: CID,
  options: VerifiedReadOptions = {},
): AsyncGenerator<Uint8Array> {
  for await (const pieces of readFileVerifiedRuns(components, root, options)) yield* pieces
}

/**
 * {@link readFileVerified}, a run's pieces at a time: for a writer that sends
 * them with one system call (a socket's writev), not one a block.
 */
export async function* readFileVerifiedRuns(
  components: VerifiedReadComponents,
  root: CID,
  options: VerifiedReadOptions = {},
): AsyncGenerator<Uint8Array[]> {
  const { blocks, hasher } = components
  const budget = options.budget
  const start = options.offset ?? 0
  const end = options.length === undefined ? Number.POSITIVE_INFINITY : start + options.length
  if (start < 0 || end < start)
    throw new FerryError('ERR_INVALID_ARGUMENT', `bad range ${start}+${options.length}`)

  const verify = async (
    leaves: Leaf[],
    locations: Location[],
    run: { start: number; end: number; offset: number; span: Uint8Array },
  ): Promise<VerifiedRun> => {
    const ranges: number[] = []
    const placed: VerifiedRun['blocks'] = []
    for (let i = run.start; i < run.end; i++) {
      const from = run.span.byteOffset + locations[i].offset - run.offset
      const to = from + locations[i].length
      ranges.push(from, to)
      placed.push({ leaf: leaves[i], from, to })
    }
    const { digests, buffer } = await hasher.owned(run.span.buffer as ArrayBuffer, ranges)
    for (const [j, block] of placed.entries()) {
      const expected = block.leaf.cid.multihash.digest
      const actual = digests.subarray(j * 32, j * 32 + 32)
      if (Buffer.compare(expected, actual) !== 0) {
        throw new FerryError('ERR_CORRUPT_BLOCK', `block ${block.leaf.cid} does not match its hash`, {
          details: { cid: block.leaf.cid.toString() },
        })
      }
    }
    return { bytes: new Uint8Array(buffer), blocks: placed }
  }

  function* emit(run: VerifiedRun): Generator<Uint8Array[]> {
    const pieces: Uint8Array[] = []
    for (const { leaf, from, to } of run.blocks) {
      const first = Math.max(from, from + (start - leaf.base))
      const last = Math.min(to, from + (end - leaf.base))
      if (last > first) pieces.push(run.bytes.subarray(first, last))
    }
    if (pieces.length > 0) yield pieces
  }

  for await (const leaves of leafBatches(blocks, root, start, end, options)) {
    const found = await blocks.locateMany(leaves.map((leaf) => leaf.cid))
    const missing = found.indexOf(undefined)
    if (missing >= 0) {
      throw new FerryError('ERR_NOT_FOUND', `block ${leaves[missing].cid} is not in the store`, {
        details: { cid: leaves[missing].cid.toString() },
      })
    }
    const locations = found as Location[]
    const verifying: Array<Promise<VerifiedRun>> = []
    // Gives the oldest run to the consumer, then its token back.
    async function* next(): AsyncGenerator<Uint8Array[]> {
      const run = verifying.shift() as Promise<VerifiedRun>
      try {
        yield* emit(await run)
      } finally {
        budget?.release()
      }
    }
    // Read ahead one run at a time (window 1): each run read is one token taken.
    const runs = readRuns(blocks, locations, { window: 1, signal: options.signal })
    try {
      for (;;) {
        if (budget !== undefined) {
          // Holding runs, let the consumer take them before waiting for a token.
          while (verifying.length > 0 && !budget.available()) yield* next()
          await budget.acquire(options)
        }
        const read = await runs.next().catch((err) => {
          budget?.release()
          throw err
        })
        if (read.done === true) {
          budget?.release()
          break
        }
        const pending = verify(leaves, locations, read.value)
        pending.catch(() => {}) // surfaced in order below
        verifying.push(pending)
        if (verifying.length >= AHEAD) yield* next()
      }
      while (verifying.length > 0) yield* next()
    } finally {
      // Stopped early (an abort, a damaged block): the tokens of runs never given back.
      for (const pending of verifying.splice(0)) {
        pending.catch(() => {})
        budget?.release()
      }
      await runs.return(undefined)
    }
  }
}
