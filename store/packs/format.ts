import type { FileHandle } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import { blockMatches } from '../blocks/cid.js'

/*
 * A pack file: an 8-byte magic, then self-describing records
 *   u32 BE data length | u8 CID length | CID bytes | data
 * so that the index can be rebuilt by a scan and a torn tail recognised.
 */

export const PACK_MAGIC = new Uint8Array([0x46, 0x45, 0x52, 0x52, 0x59, 0x50, 0x4b, 0x01]) // "FERRYPK\x01"
export const RECORD_HEADER_BYTES = 5
/** Largest block a pack record may hold (index nodes are ≤ 1 MiB, chunks ≤ 256 KiB; room for patches). */
export const MAX_RECORD_DATA = 4 * 1024 * 1024

/** Where a block's bytes sit: pack number, byte offset of the data, data length. */
export interface Location {
  pack: number
  offset: number
  length: number
}

export function encodeLocation(location: Location): Uint8Array {
  const out = new Uint8Array(12)
  const view = new DataView(out.buffer)
  view.setUint32(0, location.pack)
  view.setUint32(4, location.offset)
  view.setUint32(8, location.length)
  return out
}

export function decodeLocation(bytes: Uint8Array): Location {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { pack: view.getUint32(0), offset: view.getUint32(4), length: view.getUint32(8) }
}

/** The header that precedes a block's bytes in a pack. */
export function encodeRecordHeader(cid: CID, dataLength: number): Uint8Array {
  const cidBytes = cid.bytes
  const out = new Uint8Array(RECORD_HEADER_BYTES + cidBytes.byteLength)
  new DataView(out.buffer).setUint32(0, dataLength)
  out[4] = cidBytes.byteLength
  out.set(cidBytes, RECORD_HEADER_BYTES)
  return out
}

export interface ScannedRecord {
  cid: CID
  location: Location
}

/**
 * Reads a pack's records in order, verifying each block's bytes against its
 * CID. Stops at the first record that is torn, malformed or does not match:
 * `end` is then the offset up to which the pack is sound. `from` starts the
 * scan at a record boundary past the first (a pack's committed end).
 */
export async function* scanPack(
  handle: FileHandle,
  pack: number,
  from = PACK_MAGIC.byteLength,
): AsyncGenerator<ScannedRecord, { end: number }> {
  const { size } = await handle.stat()
  const magic = new Uint8Array(PACK_MAGIC.byteLength)
  if (size < magic.byteLength) return { end: 0 }
  await handle.read(magic, 0, magic.byteLength, 0)
  if (Buffer.compare(magic, PACK_MAGIC) !== 0) return { end: 0 }
  let offset = Math.max(from, PACK_MAGIC.byteLength)
  const header = new Uint8Array(RECORD_HEADER_BYTES + 255)
  while (offset + RECORD_HEADER_BYTES <= size) {
    await handle.read(header, 0, RECORD_HEADER_BYTES, offset)
    const dataLength = new DataView(header.buffer).getUint32(0)
    const cidLength = header[4]
    const dataOffset = offset + RECORD_HEADER_BYTES + cidLength
    if (dataLength > MAX_RECORD_DATA || cidLength === 0 || dataOffset + dataLength > size) break
    const cidBytes = new Uint8Array(cidLength)
    await handle.read(cidBytes, 0, cidLength, offset + RECORD_HEADER_BYTES)
    let cid: CID
    try {
      cid = CID.decode(cidBytes)
    } catch {
      break
    }
    const data = new Uint8Array(dataLength)
    await handle.read(data, 0, dataLength, dataOffset)
    if (!blockMatches(cid, data)) break
    yield { cid, location: { pack, offset: dataOffset, length: dataLength } }
    offset = dataOffset + dataLength
  }
  return { end: offset }
}
