import * as dagCbor from '@ipld/dag-cbor'
import { varint } from 'multiformats'
import { CID } from 'multiformats/cid'
import { DAG_CBOR, RAW } from '../blocks/cid.js'
import { FerryError } from '../errors.js'

/*
 * CARv1 framing (https://ipld.io/specs/transport/car/carv1/):
 *   varint(header length) | dag-cbor {version: 1, roots: [CID]}
 *   then sections: varint(CID length + data length) | CID | data
 */

/** Largest section ferry writes or accepts: a 1 MiB index node plus CID and slack. */
export const MAX_SECTION_BYTES = 1024 * 1024 + 1024
/** Largest header accepted. */
export const MAX_HEADER_BYTES = 64 * 1024

export function encodeCarHeader(roots: CID[]): Uint8Array {
  const header = dagCbor.encode({ version: 1, roots })
  const length = varint.encodeTo(header.byteLength, new Uint8Array(varint.encodingLength(header.byteLength)))
  const out = new Uint8Array(length.byteLength + header.byteLength)
  out.set(length, 0)
  out.set(header, length.byteLength)
  return out
}

/** Decodes the header's body (after its length varint); ERR_BAD_ARCHIVE when it is not a CARv1 header. */
export function decodeCarHeader(bytes: Uint8Array): { roots: CID[] } {
  let header: { version?: unknown; roots?: unknown }
  try {
    header = dagCbor.decode(bytes)
  } catch (cause) {
    throw new FerryError('ERR_BAD_ARCHIVE', 'the archive header is not valid dag-cbor', { cause })
  }
  if (
    header?.version !== 1 ||
    !Array.isArray(header.roots) ||
    header.roots.some((r) => CID.asCID(r) === null)
  ) {
    throw new FerryError('ERR_BAD_ARCHIVE', 'the archive header is not a CARv1 header with roots')
  }
  return { roots: header.roots as CID[] }
}

/** The bytes that precede a block's data in a section. */
export function encodeSectionHeader(cid: CID, dataLength: number): Uint8Array {
  const cidBytes = cid.bytes
  const total = cidBytes.byteLength + dataLength
  const out = new Uint8Array(varint.encodingLength(total) + cidBytes.byteLength)
  varint.encodeTo(total, out, 0)
  out.set(cidBytes, out.byteLength - cidBytes.byteLength)
  return out
}

/** The buffers of `blocks` as CAR sections (header, bytes, header, bytes, ...), in order. */
export function sectionBuffers(blocks: Array<{ cid: CID; bytes: Uint8Array }>): Uint8Array[] {
  const buffers: Uint8Array[] = []
  for (const block of blocks)
    buffers.push(encodeSectionHeader(block.cid, block.bytes.byteLength), block.bytes)
  return buffers
}

export function sectionBytes(cid: CID, dataLength: number): number {
  const total = cid.bytes.byteLength + dataLength
  return varint.encodingLength(total) + total
}

/**
 * Reads a varint at `offset` in `bytes[..end)`: [value, length], or undefined
 * when more bytes are needed. ERR_BAD_ARCHIVE for an overlong varint.
 */
export function readVarint(bytes: Uint8Array, offset: number, end: number): [number, number] | undefined {
  let value = 0
  let shift = 0
  for (let i = offset; i < end && i < offset + 8; i++) {
    const byte = bytes[i]
    value += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return [value, i - offset + 1]
    shift += 7
  }
  if (end - offset >= 8) throw new FerryError('ERR_BAD_ARCHIVE', 'an archive length field is malformed')
  return undefined
}

/**
 * Parses the CID at the start of a section. Only what ferry writes is
 * accepted (CIDv1, raw or dag-cbor, sha2-256), so a damaged CID is caught
 * here even when its multihash still matches.
 */
export function readSectionCid(bytes: Uint8Array, offset: number, end: number): { cid: CID; length: number } {
  // version(1) codec(1) multihash code(1) length(1) digest(32)
  const length = 36
  if (end - offset < length)
    throw new FerryError('ERR_BAD_ARCHIVE', 'an archive section is shorter than its CID')
  if (bytes[offset] !== 0x01 || (bytes[offset + 1] !== RAW && bytes[offset + 1] !== DAG_CBOR)) {
    throw new FerryError(
      'ERR_BAD_ARCHIVE',
      'an archive section has a CID ferry does not write (not CIDv1 raw/dag-cbor)',
    )
  }
  if (bytes[offset + 2] !== 0x12 || bytes[offset + 3] !== 0x20) {
    throw new FerryError('ERR_BAD_ARCHIVE', 'an archive section has a CID whose hash is not sha2-256')
  }
  return { cid: CID.decode(bytes.slice(offset, offset + length)), length }
}
