import type { Uint8ArrayList } from 'uint8arraylist'
import { FerryError } from '../../store/index.js'
import { FRAME_ABSENT, FRAME_BLOCK } from './messages.js'
import type { ReceiveBuffer } from './receive-buffer.js'

/** An unsigned varint of a frame at most MAX_FRAME_BYTES long takes at most this many bytes. */
const MAX_VARINT_BYTES = 4

const PREFIX = 0
const TYPE = 1
const BODY = 2

/**
 * Reads the reply frames of one want list (messages.ts) off a stream,
 * copying each block's bytes from the chunks as they arrive straight into
 * `buffer` (no concatenation, no buffer a block). Yields each frame in order:
 * a view held in `buffer` (the consumer releases it), or undefined for
 * "absent". A frame that is empty, too long or of an unknown type is
 * ERR_PROTOCOL. A frame cut short by the end of the stream is released here.
 */
export async function* readReplyFrames(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  buffer: ReceiveBuffer,
  maxFrameBytes: number,
): AsyncGenerator<Uint8Array | undefined> {
  // The frame being read: its length prefix, then its type byte, then its body.
  let state = PREFIX
  let length = 0
  let shift = 0
  let prefixBytes = 0
  let body: Uint8Array | undefined
  let filled = 0
  const reset = () => {
    state = PREFIX
    length = 0
    shift = 0
    prefixBytes = 0
    body = undefined
  }
  try {
    for await (const chunk of source) {
      for (const piece of pieces(chunk)) {
        let at = 0
        while (at < piece.byteLength) {
          if (state === PREFIX) {
            const byte = piece[at++]
            prefixBytes++
            length += (byte & 0x7f) * 2 ** shift
            if (byte & 0x80) {
              shift += 7
              if (prefixBytes >= MAX_VARINT_BYTES)
                throw new FerryError('ERR_PROTOCOL', 'sync: a reply frame length prefix is too long')
              continue
            }
            if (length === 0) throw new FerryError('ERR_PROTOCOL', 'sync: empty reply frame')
            if (length > maxFrameBytes)
              throw new FerryError(
                'ERR_PROTOCOL',
                `sync: a reply frame of ${length} B is over the ${maxFrameBytes} B limit`,
              )
            state = TYPE
            continue
          }
          if (state === TYPE) {
            const type = piece[at++]
            if (type === FRAME_ABSENT) {
              if (length !== 1) throw new FerryError('ERR_PROTOCOL', 'sync: an "absent" frame with a body')
              reset()
              yield undefined
              continue
            }
            if (type !== FRAME_BLOCK)
              throw new FerryError('ERR_PROTOCOL', `sync: unknown reply frame type ${type}`)
            body = await buffer.reserve(length - 1)
            filled = 0
            state = BODY
          } else {
            const block = body as Uint8Array
            const take = Math.min(block.byteLength - filled, piece.byteLength - at)
            copyInto(block, filled, piece.subarray(at, at + take))
            filled += take
            at += take
          }
          if (state === BODY && filled === (body as Uint8Array).byteLength) {
            const block = body as Uint8Array
            reset()
            yield block
          }
        }
      }
    }
    if (state !== PREFIX || prefixBytes > 0)
      throw new FerryError('ERR_PROTOCOL', 'sync: the stream ended inside a reply frame')
  } finally {
    if (body !== undefined) buffer.release(body)
  }
}

/** Pieces are staged through this (ordinary memory) when their alignment differs from the target's. */
const scratch = new Uint8Array(256 * 1024 + 8)

/**
 * `target.set(source, at)` for a target in shared memory, which V8 copies
 * byte by byte (about 300 ms a GiB here) unless source and target share
 * their alignment modulo 8. A misaligned piece is copied into scratch at the
 * target's alignment first: two fast copies (about 75 ms a GiB).
 */
function copyInto(target: Uint8Array, at: number, source: Uint8Array): void {
  const alignment = (target.byteOffset + at) & 7
  if (source.byteLength < 256 || ((source.byteOffset - alignment) & 7) === 0) {
    target.set(source, at)
    return
  }
  const room = scratch.byteLength - 8
  for (let from = 0; from < source.byteLength; from += room) {
    const piece = source.subarray(from, Math.min(from + room, source.byteLength))
    scratch.set(piece, alignment)
    target.set(scratch.subarray(alignment, alignment + piece.byteLength), at + from)
  }
}

/** The contiguous pieces of a chunk, without copying. */
function pieces(chunk: Uint8Array | Uint8ArrayList): Iterable<Uint8Array> {
  return chunk instanceof Uint8Array ? [chunk] : chunk
}
