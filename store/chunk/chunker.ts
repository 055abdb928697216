import { GEAR } from './gear.js'
import { GEAR_WASM_BASE64 } from './gear-wasm.js'

/** Smallest chunk, except the last one of a stream. */
export const MIN_CHUNK = 16 * 1024
/** Target average chunk size; the normalization point. */
export const AVG_CHUNK = 64 * 1024
/** Largest chunk. */
export const MAX_CHUNK = 256 * 1024

/*
 * Normalized chunking, level 2: before the average size a cut needs 18 hash
 * bits to be zero (harder), after it 14 (easier), so sizes crowd around the
 * average. The bits sit in the upper half of the 32-bit gear hash, where each
 * bit depends on the most input bytes. Changing these is a format change: it
 * changes every root. The golden test pins them.
 */
const MASK_HARD = 0xedb6db40 | 0
const MASK_EASY = 0xadb6d800 | 0

/**
 * Reference implementation in plain JS (the specification; tests compare the
 * fast path against it).
 * Finds where the chunk starting at `start` ends, looking at `bytes[start..end)`.
 * Returns the cut index (exclusive), or -1 when the answer depends on bytes
 * not yet seen (fewer than MAX_CHUNK available and `final` is false).
 */
export function findCut(bytes: Uint8Array, start: number, end: number, final: boolean): number {
  const available = end - start
  if (available <= MIN_CHUNK) return final ? end : -1
  const last = available > MAX_CHUNK ? start + MAX_CHUNK : end
  const normal = Math.min(start + AVG_CHUNK, last)
  const gear = GEAR
  let hash = 0
  let i = start + MIN_CHUNK
  while (i < normal) {
    hash = ((hash << 1) + gear[bytes[i]]) | 0
    i++
    if ((hash & MASK_HARD) === 0) return i
  }
  while (i < last) {
    hash = ((hash << 1) + gear[bytes[i]]) | 0
    i++
    if ((hash & MASK_EASY) === 0) return i
  }
  if (last - start === MAX_CHUNK || final) return last
  return -1
}

/** The gear table sits at the start of a scanner's memory; data goes after it. */
export const TABLE_BYTES = 1024
const PAGE = 64 * 1024
const gearModule = new WebAssembly.Module(Buffer.from(GEAR_WASM_BASE64, 'base64'))

/** The wasm gear scanner over one (shared) memory. */
export interface GearScanner {
  readonly memory: WebAssembly.Memory
  /** The whole memory, for reading and writing data at absolute offsets. */
  readonly bytes: Uint8Array
  cut(from: number, normal: number, last: number, hard: number, easy: number): number
}

/** A scanner with `dataBytes` of room after the gear table. */
export function createScanner(dataBytes: number): GearScanner {
  const pages = Math.ceil((TABLE_BYTES + dataBytes) / PAGE)
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true })
  const instance = new WebAssembly.Instance(gearModule, { env: { memory } })
  new Int32Array(memory.buffer, 0, 256).set(GEAR)
  const cut = instance.exports.cut as GearScanner['cut']
  return { memory, bytes: new Uint8Array(memory.buffer), cut }
}

/**
 * Every cut in the scanner's memory between absolute offsets `start` and
 * `end`, in order, as `findCut` would find them one after the other; the last
 * cut is where the uncut tail begins (`end` itself when `final`).
 */
export function scanCuts(scanner: GearScanner, start: number, end: number, final: boolean): number[] {
  const cuts: number[] = []
  let pos = start
  while (pos < end) {
    const available = end - pos
    let cut: number
    if (available <= MIN_CHUNK) {
      if (!final) break
      cut = end
    } else {
      const last = available > MAX_CHUNK ? pos + MAX_CHUNK : end
      const normal = Math.min(pos + AVG_CHUNK, last)
      const found = scanner.cut(pos + MIN_CHUNK, normal, last, MASK_HARD, MASK_EASY)
      if (found >= 0) cut = found
      else if (last - pos === MAX_CHUNK || final) cut = last
      else break
    }
    cuts.push(cut)
    pos = cut
  }
  return cuts
}

let windowScanner: GearScanner | undefined
const WINDOW = 4 * 1024 * 1024

/** `scanCuts` for bytes anywhere: copies them through a private scanner window by window. */
export function findCuts(bytes: Uint8Array, start: number, end: number, final: boolean): number[] {
  windowScanner ??= createScanner(WINDOW)
  const scanner = windowScanner
  const cuts: number[] = []
  let pos = start
  while (pos < end) {
    const windowEnd = Math.min(end, pos + WINDOW)
    scanner.bytes.set(bytes.subarray(pos, windowEnd), TABLE_BYTES)
    const shift = TABLE_BYTES - pos
    const found = scanCuts(scanner, pos + shift, windowEnd + shift, final && windowEnd === end)
    // scanCuts returns only decided cuts; none means the rest needs bytes beyond `end`.
    if (found.length === 0) break
    for (const cut of found) cuts.push(cut - shift)
    pos = cuts[cuts.length - 1]
  }
  return cuts
}

/**
 * Splits a byte stream into content-defined chunks. Chunk boundaries are a
 * pure function of the bytes, however the input is split into pieces.
 * Yielded chunks are views that stay valid (they are never overwritten).
 * Memory: at most one input piece plus MAX_CHUNK.
 */
export async function* chunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let carry: Uint8Array = new Uint8Array(0)
  for await (const piece of source) {
    if (piece.byteLength === 0) continue
    let data: Uint8Array
    if (carry.byteLength === 0) {
      data = piece
    } else {
      data = new Uint8Array(carry.byteLength + piece.byteLength)
      data.set(carry, 0)
      data.set(piece, carry.byteLength)
    }
    let pos = 0
    for (const cut of findCuts(data, 0, data.byteLength, false)) {
      yield data.subarray(pos, cut)
      pos = cut
    }
    // Copy the tail when it is a small part of a large piece, so the piece can be freed.
    carry = data.byteLength - pos < data.byteLength / 4 ? data.slice(pos) : data.subarray(pos)
  }
  let pos = 0
  for (const cut of findCuts(carry, 0, carry.byteLength, true)) {
    yield carry.subarray(pos, cut)
    pos = cut
  }
}
