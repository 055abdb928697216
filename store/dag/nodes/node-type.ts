import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import type { Block } from '../../blocks/blockstore.js'
import { decodeNode, encodeNode } from '../../blocks/cid.js'
import { FerryError } from '../../errors.js'
import { issueKeys, issueMessage } from '../../schema/issues.js'

/** Every ferry index node is a dag-cbor map with a string `type`. */
export interface TypedNode {
  type: string
}

/**
 * How ferry writes, reads and walks one type of dag-cbor index node. Walkers
 * follow only `links`, so what a node names but does not hold (a patch's
 * base, an archive's base) stays out of gc, completeness, sync and export.
 */
export interface NodeCodec<T extends TypedNode = TypedNode> {
  /** The node's `type` field, the registry's key. */
  readonly type: T['type']
  /** What such a node is, in words, for messages ("a file"). */
  readonly title: string
  /** Encodes the value (dag-cbor sorts map keys, so field order never matters). */
  encode(value: T): Block
  /** Decodes and checks the block: ERR_CORRUPT_BLOCK naming the CID and what is wrong. */
  decode(cid: CID, bytes: Uint8Array): T
  /** Checks a value already decoded from block `cid` (the registry decodes once, then dispatches). */
  check(cid: CID, value: unknown): T
  /** The blocks below this node, in DAG order: what walkers follow. */
  links(value: T): CID[]
  /** `links`, each with the bytes of content it stands for (0 when the node does not say). */
  sizes(value: T): Array<[CID, number]>
}

/** The `type` of a decoded value, if it has a string one. */
export function typeOf(value: unknown): string | undefined {
  const type = (value as { type?: unknown } | null)?.type
  return typeof type === 'string' ? type : undefined
}

/**
 * A codec from the node's fields (a valibot schema, `type` aside) and its
 * sized links; `links` default to the sized links' CIDs.
 */
export function defineNode<T extends TypedNode>(spec: {
  type: T['type']
  title: string
  fields: v.GenericSchema
  sizes: (value: T) => Array<[CID, number]>
  links?: (value: T) => CID[]
}): NodeCodec<T> {
  const { type, title, fields, sizes } = spec
  const problem = (cid: CID, what: string) =>
    new FerryError('ERR_CORRUPT_BLOCK', `block ${cid} is not a valid ${type} node: ${what}`, {
      details: { cid: cid.toString(), type, problem: what },
    })
  const check = (cid: CID, value: unknown): T => {
    const found = typeOf(value)
    if (found !== type) throw problem(cid, found === undefined ? 'it has no type' : `it is a ${found} node`)
    // Validation only: the decoded value itself is returned, CIDs and all, not a copy.
    const result = v.safeParse(fields, value, { abortEarly: true })
    if (!result.success) {
      const [issue] = result.issues
      const path = issueKeys(issue).join('.')
      throw problem(cid, path === '' ? issueMessage(issue) : `${path} ${issueMessage(issue)}`)
    }
    return value as T
  }
  return {
    type,
    title,
    encode: (value) => encodeNode(value),
    decode: (cid, bytes) => check(cid, decodeNode(cid, bytes)),
    check,
    links: spec.links ?? ((value) => sizes(value).map(([cid]) => cid)),
    sizes,
  }
}

/**
 * Decodes a node that a caller named as one of `codec`'s type (a CLI
 * argument, say): a node of another type is the wrong argument
 * (ERR_INVALID_ARGUMENT), a malformed one is damage (ERR_CORRUPT_BLOCK).
 */
export function decodeNamed<T extends TypedNode>(codec: NodeCodec<T>, cid: CID, bytes: Uint8Array): T {
  const value = decodeNode(cid, bytes)
  const found = typeOf(value)
  if (found !== undefined && found !== codec.type) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `${cid} is a ${found} node, not ${codec.title}`)
  }
  return codec.check(cid, value)
}
