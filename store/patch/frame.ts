/** zstd's frame magic number, little-endian on the wire: `28 B5 2F FD`. */
const FRAME_MAGIC = 0xfd2fb528

/**
 * The content size a zstd frame header declares (RFC 8878, 3.1.1.1), read
 * before anything is decompressed, so that a patch claiming more than its
 * node says is refused without allocating for it. Undefined when the frame
 * is not a zstd frame or does not say.
 */
export function frameContentSize(frame: Uint8Array): number | undefined {
  if (frame.byteLength < 5) return undefined
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  if (view.getUint32(0, true) !== FRAME_MAGIC) return undefined
  const descriptor = frame[4]
  const sizeFlag = descriptor >> 6
  const singleSegment = (descriptor >> 5) & 1
  const dictionaryIdFlag = descriptor & 3
  let at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictionaryIdFlag]
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]
  if (sizeBytes === 0 || at + sizeBytes > frame.byteLength) return undefined
  switch (sizeBytes) {
    case 1:
      return frame[at]
    case 2:
      return view.getUint16(at, true) + 256
    case 4:
      return view.getUint32(at, true)
    default: {
      const high = view.getUint32(at + 4, true)
      at = view.getUint32(at, true)
      // Beyond 2^53 no block could be that size anyway.
      return high > 0x1fffff ? Number.MAX_SAFE_INTEGER : high * 2 ** 32 + at
    }
  }
}
