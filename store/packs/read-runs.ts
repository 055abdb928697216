import type { AbortOptions } from '../blocks/blockstore.js'
import type { Location } from './format.js'
import { allocate } from './pack-files.js'

/** Most bytes one read covers, from the first byte of a run's first block to the last of its last. */
export const MAX_RUN_BYTES = 1024 * 1024
/** Most bytes between two blocks that still share a read. */
export const MAX_GAP_BYTES = 4096

/** What reads pack bytes: a PackBlockstore. */
export interface PackReader {
  /** Reads the bytes at `location` into the start of `target`; returns that view. */
  readInto(location: Location, target: Uint8Array): Promise<Uint8Array>
}

/** Blocks `locations[start..end)`, read with one read. */
export interface PackRun {
  start: number
  end: number
  /** The pack offset of `span[0]`. */
  offset: number
  /** The pack's bytes from the run's first block to the end of its last; empty for a block not held. */
  span: Uint8Array
}

export interface ReadRunsOptions extends AbortOptions {
  /**
   * Runs read or held at once, the one the consumer holds included: more
   * than 1 reads ahead while the consumer works.
   * @default 1
   */
  window?: number
  /**
   * Reuse the runs' buffers: a run's bytes are valid only until the next run
   * is asked for. For a consumer done with each run's blocks by then (export
   * writes them out); a fresh buffer per run costs page faults and collection.
   * @default false
   */
  reuseBuffers?: boolean
}

const NO_BYTES = new Uint8Array(0)

/** The end (exclusive) of the run that starts at `start` (see readRuns for the rules). */
export function runEnd(locations: ReadonlyArray<Location | undefined>, start: number): number {
  const first = locations[start]
  if (first === undefined) return start + 1
  let end = start + 1
  let previous = first
  while (end < locations.length) {
    const next = locations[end]
    if (next === undefined || next.pack !== first.pack) break
    const gap = next.offset - (previous.offset + previous.length)
    if (gap < 0 || gap > MAX_GAP_BYTES) break
    if (next.offset + next.length - first.offset > MAX_RUN_BYTES) break
    previous = next
    end++
  }
  return end
}

/** The bytes of the block at `location` within `run` (a view, no copy); undefined for a block not held. */
export function blockIn(run: PackRun, location: Location): Uint8Array
export function blockIn(run: PackRun, location: Location | undefined): Uint8Array | undefined
export function blockIn(run: PackRun, location: Location | undefined): Uint8Array | undefined {
  if (location === undefined) return undefined
  const start = location.offset - run.offset
  return run.span.subarray(start, start + location.length)
}

/**
 * Reads the blocks at `locations` from the packs, one read a run of
 * neighbouring blocks: the one coalesced pack reader (sync serving, export,
 * HTTP). Take each block's bytes with `blockIn(run, locations[i])` for `i`
 * from `run.start` to `run.end`. Per run, not per block: one read, one
 * object, no await per block.
 *
 * The rules of a run, in the order given (which is the order read and yielded):
 * - its blocks are in one pack, each after the one before it: a block in
 *   another pack, or earlier in the same pack, starts a new run;
 * - at most MAX_GAP_BYTES (4 KiB) lie between two of its blocks: record
 *   headers (5 bytes and the CID) and small blocks not asked for are read
 *   along, which costs less than another read (each is a thread-pool hop);
 * - it spans at most MAX_RUN_BYTES (1 MiB), unless it is one larger block: a
 *   want list or a DAG walk is mostly consecutive blocks, but a run's buffer
 *   lives as long as any block of it is held (sync: until sent), so longer
 *   runs hold memory longer and cost the sender collections;
 * - a block the index lacks (no location) is a run of its own, with no bytes.
 * The limits are the sync server's, whose path is hot and whose limits were
 * measured (bench/history/source-notes-packs.md).
 */
export async function* readRuns(
  reader: PackReader,
  locations: ReadonlyArray<Location | undefined>,
  options: ReadRunsOptions = {},
): AsyncGenerator<PackRun> {
  const window = Math.max(1, options.window ?? 1)
  const reuse = options.reuseBuffers === true
  const pool: ArrayBufferLike[] = []
  const load = async (start: number, end: number): Promise<PackRun> => {
    const first = locations[start]
    if (first === undefined) return { start, end, offset: 0, span: NO_BYTES }
    const last = locations[end - 1] as Location
    const length = last.offset + last.length - first.offset
    const pooled = reuse ? pool.pop() : undefined
    const target =
      pooled !== undefined && pooled.byteLength >= length
        ? new Uint8Array(pooled, 0, length)
        : allocate(reuse ? Math.max(MAX_RUN_BYTES, length) : length)
    const span = await reader.readInto({ pack: first.pack, offset: first.offset, length }, target)
    return { start, end, offset: first.offset, span }
  }
  const reading: Array<Promise<PackRun>> = []
  let start = 0
  while (start < locations.length || reading.length > 0) {
    if (start < locations.length) {
      options.signal?.throwIfAborted()
      const end = runEnd(locations, start)
      const loading = load(start, end)
      loading.catch(() => {}) // awaited in turn; a failed read ahead must not go unhandled meanwhile
      reading.push(loading)
      start = end
      if (reading.length < window && start < locations.length) continue
    }
    const run = (await reading.shift()) as PackRun
    yield run
    // The consumer asks for the next run only once it is done with this one.
    if (reuse && run.span !== NO_BYTES) pool.push(run.span.buffer)
  }
}
