import type { CID } from 'multiformats/cid'
import {
  type EnvelopeNode,
  envelopeNode,
  type NodeCodec,
  type PartNode,
  partNode,
  type TypedNode,
} from '../dag/nodes/index.js'
import { FerryError, isFerryError } from '../errors.js'

/*
 * The envelope and part codecs live with the other node types; what is
 * archive-specific is how a bad one is reported (ERR_BAD_ARCHIVE: the file
 * is not a usable ferry archive) and that a part names its own envelope.
 */

function decodeIn<T extends TypedNode>(codec: NodeCodec<T>, cid: CID, bytes: Uint8Array, what: string): T {
  try {
    return codec.decode(cid, bytes)
  } catch (cause) {
    const why = isFerryError(cause) ? (cause.details?.problem ?? cause.message) : String(cause)
    throw new FerryError('ERR_BAD_ARCHIVE', `${what}: ${why}`, { cause })
  }
}

/** The archive's root block as an envelope; ERR_BAD_ARCHIVE when it is not one. */
export function decodeEnvelope(cid: CID, bytes: Uint8Array): EnvelopeNode {
  return decodeIn(envelopeNode, cid, bytes, `the archive root ${cid} is not a ferry envelope`)
}

/** A part marker of the archive whose envelope is `envelope`; ERR_BAD_ARCHIVE otherwise. */
export function decodePart(cid: CID, bytes: Uint8Array, envelope: CID): PartNode {
  const what = `block ${cid} is not this archive's part marker`
  const part = decodeIn(partNode, cid, bytes, what)
  if (!part.envelope.equals(envelope)) {
    throw new FerryError('ERR_BAD_ARCHIVE', `${what}: it names the envelope ${part.envelope}`)
  }
  return part
}
