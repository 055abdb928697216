import { CID } from 'multiformats/cid'
import { decodeNode, encodeNode } from '../blocks/cid.js'
import { FerryError } from '../errors.js'

/** A head carried by an archive, with its publisher's signature. */
export interface EnvelopeHead {
  head: CID
  signature: Uint8Array
}

/** A release the archive is a delta against: its blocks were left out. */
export interface BaseRef {
  root: CID
  name?: string
  version?: string
}

/**
 * The root of every archive (and of each of its parts): the signed heads it
 * carries, what it was made as a delta against, and how many parts it has.
 */
export interface EnvelopeNode {
  type: 'envelope'
  heads: EnvelopeHead[]
  base: BaseRef[]
  parts: number
}

/**
 * The block after the envelope and heads at the start of each part: which
 * part this is and how many sections it holds (itself included), so that a
 * part truncated on a section boundary is told apart from a complete one.
 */
export interface PartNode {
  type: 'part'
  envelope: CID
  index: number
  parts: number
  sections: number
}

export function encodeEnvelope(envelope: EnvelopeNode) {
  return encodeNode(envelope)
}

export function encodePart(part: PartNode) {
  return encodeNode(part)
}

function bad(message: string): FerryError {
  return new FerryError('ERR_BAD_ARCHIVE', message)
}

export function decodeEnvelope(cid: CID, bytes: Uint8Array): EnvelopeNode {
  const value = decodeNode<EnvelopeNode>(cid, bytes)
  if (
    value?.type !== 'envelope' ||
    !Array.isArray(value.heads) ||
    value.heads.length === 0 ||
    value.heads.some((h) => CID.asCID(h?.head) === null || !(h.signature instanceof Uint8Array)) ||
    !Array.isArray(value.base) ||
    value.base.some((b) => CID.asCID(b?.root) === null) ||
    !Number.isSafeInteger(value.parts) ||
    value.parts < 1
  ) {
    throw bad(`the archive root ${cid} is not a ferry envelope`)
  }
  return value
}

export function decodePart(cid: CID, bytes: Uint8Array, envelope: CID): PartNode {
  const value = decodeNode<PartNode>(cid, bytes)
  if (
    value?.type !== 'part' ||
    !CID.asCID(value.envelope)?.equals(envelope) ||
    !Number.isSafeInteger(value.index) ||
    !Number.isSafeInteger(value.parts) ||
    value.index < 1 ||
    value.index > value.parts ||
    !Number.isSafeInteger(value.sections)
  ) {
    throw bad(`block ${cid} is not this archive's part marker`)
  }
  return value
}
