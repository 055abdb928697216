import { CID } from 'multiformats/cid'
import * as v from 'valibot'

/*
 * Schema pieces the node codecs share, so that the same fault in any node
 * reads the same ("links.3.0 must be a CID").
 */

/** A link to another block. */
export const link = v.custom<CID>((value) => CID.asCID(value) !== null, 'must be a CID')

/** A string. */
export const text = v.string('must be a string')

/** A whole number, 0 or more (sizes, counts, sequence numbers). */
export const count = v.pipe(
  v.number('must be a number'),
  v.safeInteger('must be a whole number'),
  v.minValue(0, 'must not be negative'),
)

/** A whole number, 1 or more (part numbers). */
export const ordinal = v.pipe(count, v.minValue(1, 'must be 1 or more'))

/** Raw bytes (a signature). */
export const bytes = v.instance(Uint8Array, 'must be bytes')
