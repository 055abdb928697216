import { GEAR } from './gear.js'

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
 * Finds where the chunk starting at `start` ends, looking at `bytes[start..end)`.
 * Returns the cut index (exclusive), or -1 when the answer depends on bytes
 * not yet seen (fewer than MAX_CHUNK available and `final` is false).
 */
export function findCut(bytes: Uint8Array, start: number, end: number, final: boolean): number {
  const available = end - start
  if (available <= MIN_CHUNK) return final ? end : -1
  const last = available > MAX_CHUNK ? start + MAX_CHUNK : end
  const normal = start + AVG_CHUNK < last ? start + AVG_CHUNK : last
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
    for (;;) {
      const cut = findCut(data, pos, data.byteLength, false)
      if (cut < 0) break
      yield data.subarray(pos, cut)
      pos = cut
    }
    // Copy the tail when it is a small part of a large piece, so the piece can be freed.
    carry = data.byteLength - pos < data.byteLength / 4 ? data.slice(pos) : data.subarray(pos)
  }
  let pos = 0
  while (pos < carry.byteLength) {
    const cut = findCut(carry, pos, carry.byteLength, true)
    yield carry.subarray(pos, cut)
    pos = cut
  }
}
