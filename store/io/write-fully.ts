import type { FileHandle } from 'node:fs/promises'
import { FerryError } from '../errors.js'

/** writev takes at most IOV_MAX (1024) buffers per call. */
const IOV_MAX = 1024

/**
 * writev of all of `buffers` at `position` (IOV_MAX at a time). A short write
 * (the disk filling up) is continued from where it stopped, so that a full
 * disk surfaces as the system's own ENOSPC. Returns the end of what was written.
 */
export async function writeFully(
  handle: FileHandle,
  buffers: Uint8Array[],
  position: number,
): Promise<number> {
  let rest = buffers
  while (rest.length > 0) {
    const slice = rest.slice(0, IOV_MAX)
    const expected = slice.reduce((sum, b) => sum + b.byteLength, 0)
    const { bytesWritten } = await handle.writev(slice, position)
    if (bytesWritten === 0 && expected > 0) throw new FerryError('ERR_IO', 'the file system took no bytes')
    position += bytesWritten
    rest = bytesWritten === expected ? rest.slice(IOV_MAX) : skipBytes(rest, bytesWritten)
  }
  return position
}

/** `buffers` without their first `count` bytes (views, no copy). */
function skipBytes(buffers: Uint8Array[], count: number): Uint8Array[] {
  let i = 0
  while (i < buffers.length && count >= buffers[i].byteLength) count -= buffers[i++].byteLength
  const rest = buffers.slice(i)
  if (count > 0 && rest.length > 0) rest[0] = rest[0].subarray(count)
  return rest
}
