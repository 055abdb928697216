import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { bytes, count, link, ordinal, text } from './fields.js'
import { defineNode } from './node-type.js'

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
 * The root of every archive (and of each of its parts, DESIGN.md Archives):
 * the signed heads it carries, what it was made as a delta against, and how
 * many parts it has.
 */
export interface EnvelopeNode {
  type: 'envelope'
  heads: EnvelopeHead[]
  base: BaseRef[]
  parts: number
}

/** Codec of archive envelopes; links are the heads carried. */
export const envelopeNode = defineNode<EnvelopeNode>({
  type: 'envelope',
  title: 'an archive envelope',
  fields: v.object({
    heads: v.pipe(
      v.array(v.object({ head: link, signature: bytes }, 'must be a signed head'), 'must be a list'),
      v.minLength(1, 'must name a head'),
    ),
    base: v.array(
      v.object({ root: link, name: v.optional(text), version: v.optional(text) }, 'must be a base'),
      'must be a list',
    ),
    parts: ordinal,
  }),
  // The heads only: the base is what the archive leaves out, never to be fetched or kept for it.
  sizes: (envelope) => envelope.heads.map(({ head }): [CID, number] => [head, 0]),
})

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

/** Codec of part markers; no links. */
export const partNode = defineNode<PartNode>({
  type: 'part',
  title: 'an archive part marker',
  fields: v.pipe(
    v.object({ envelope: link, index: ordinal, parts: ordinal, sections: count }),
    v.check((part) => part.index <= part.parts, 'index must not be above parts'),
  ),
  // `envelope` names the archive this part belongs to; nothing is below a part marker.
  sizes: () => [],
})
