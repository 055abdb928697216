import type { Uint8ArrayList } from 'uint8arraylist'
import { FerryError } from '../../store/index.js'
import { FRAME_ABSENT, FRAME_BLOCK, FRAME_PATCH } from './messages.js'
import type { ReceiveBuffer } from './receive-buffer.js'

/** An unsigned varint of a frame at most MAX_FRAME_BYTES long takes at most this many bytes. */
const MAX_VARINT_BYTES = 4

const PREFIX = 0
const TYPE = 1
const BODY = 2

/** A patch reply: the patch node's bytes, a view held in the buffer (released by the consumer). */
export interface PatchFrame {
  patch: Uint8Array
}

/** One reply: a block (a view held in the buffer), undefined for "absent", or a patch. */
export type ReplyFrame = Uint8Array | undefined | PatchFrame

/**
 * Reads the reply frames of one want list (messages.ts) off a stream,
 * copying each block's bytes from the chunks as they arrive straight into
 * `buffer` (no concatenation, no buffer a block). Yields each frame in order:
 * a view held in `buffer` (the consumer releases it), or undefined for
 * "absent". A frame that is empty, too long or of an unknown type is
 * ERR_PROTOCOL, as is a patch frame when `patches` is false (1.0.0). A frame
 * cut short by the end of the stream is released here.
 */
export async function* readReplyFrames(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  buffer: ReceiveBuffer,
  maxFrameBytes: number,
  patches = false,
): AsyncGenerator<ReplyFrame> {
  // The frame being read: its length prefix, then its type byte, then its body.
  let state = PREFIX
  let length = 0
  let shift = 0
  let prefixBytes = 0
  let body: Uint8Array | undefined
  /** `body` as a Buffer, for copyInto. */
  let target: Buffer | undefined
  let filled = 0
  let isPatch = false
  const reset = () => {
    state = PREFIX
    length = 0
    shift = 0
    prefixBytes = 0
    body = undefined
    target = undefined
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
            isPatch = type === FRAME_PATCH && patches
            if (type !== FRAME_BLOCK && !isPatch)
              throw new FerryError('ERR_PROTOCOL', `sync: unknown reply frame type ${type}`)
            body = await buffer.reserve(length - 1)
            target = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
            filled = 0
            state = BODY
          } else {
            const block = body as Uint8Array
            const take = Math.min(block.byteLength - filled, piece.byteLength - at)
            copyInto(target as Buffer, filled, piece.subarray(at, at + take))
            filled += take
            at += take
          }
          if (state === BODY && filled === (body as Uint8Array).byteLength) {
            const block = body as Uint8Array
            reset()
            yield isPatch ? { patch: block } : block
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

/**
 * Copies `source` into `target` at `at`. The target lies in shared memory, where `Uint8Array#set`
 * is a slow copy loop; `Buffer#fill` with a value exactly as long as the range is one memcpy in node
 * (bench/history/source-notes-p2p.md).
 */
function copyInto(target: Buffer, at: number, source: Uint8Array): void {
  if (source.byteLength === 0) return
  target.fill(source, at, at + source.byteLength)
}

/** The contiguous pieces of a chunk, without copying. */
function pieces(chunk: Uint8Array | Uint8ArrayList): Iterable<Uint8Array> {
  return chunk instanceof Uint8Array ? [chunk] : chunk
}
