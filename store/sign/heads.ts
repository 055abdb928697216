import type { CID } from 'multiformats/cid'
import { parseCid } from '../blocks/cid.js'
import { type HeadNode, headNode } from '../dag/nodes/index.js'
import { FerryError } from '../errors.js'
import { nameProblem, shown, versionProblem } from '../schema/names.js'
import { type Publisher, signBytes, verifyBytes } from './keys.js'

/** Signatures cover the head block's CID bytes behind this domain prefix. */
export const HEAD_DOMAIN = 'ferry/head/v1:'

/** A head block with the publisher's signature over it. */
export interface SignedHead {
  cid: CID
  bytes: Uint8Array
  head: HeadNode
  signature: Uint8Array
}

/** How a signed head is kept in the store's `heads` sublevel. */
export interface HeadRecord {
  cid: string
  signature: string
  name: string
  version: string
  seq: number
  root: string
  created: string
  publisher: string
}

function signedMessage(cid: CID): Uint8Array {
  const prefix = new TextEncoder().encode(HEAD_DOMAIN)
  const out = new Uint8Array(prefix.byteLength + cid.bytes.byteLength)
  out.set(prefix, 0)
  out.set(cid.bytes, prefix.byteLength)
  return out
}

/**
 * Throws ERR_INVALID_ARGUMENT unless the head's name and version follow the
 * rules of module names (see `schema/names.ts`): a head named `a/b` could
 * never be `cat`, one with a newline would forge lines of `ferry ls`.
 */
export function assertHeadFields(fields: { name: string; version: string }): void {
  const name = nameProblem(fields.name)
  if (name !== undefined) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `head name ${shown(fields.name)} ${name}`, {
      details: { field: 'name', name: fields.name.slice(0, 200) },
    })
  }
  const version = versionProblem(fields.version)
  if (version !== undefined) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `head ${fields.name}: version ${shown(fields.version)} ${version}`,
      { details: { field: 'version', name: fields.name, version: fields.version.slice(0, 200) } },
    )
  }
}

export function signHead(
  publisher: Publisher,
  fields: { name: string; version: string; seq: number; root: CID; created?: string },
): SignedHead {
  assertHeadFields(fields)
  const head: HeadNode = {
    type: 'head',
    name: fields.name,
    version: fields.version,
    seq: fields.seq,
    root: fields.root,
    created: fields.created ?? new Date().toISOString(),
    publisher: publisher.token,
  }
  const { cid, bytes } = headNode.encode(head)
  return { cid, bytes, head, signature: signBytes(publisher, signedMessage(cid)) }
}

/** Throws ERR_BAD_SIGNATURE unless the signature is the publisher's over this head block. */
export function assertHeadSignature(signed: SignedHead): void {
  if (!verifyBytes(signed.head.publisher, signedMessage(signed.cid), signed.signature)) {
    throw new FerryError(
      'ERR_BAD_SIGNATURE',
      `head ${signed.head.name} (${signed.cid}) is not signed by its publisher ${signed.head.publisher}`,
      { details: { head: signed.cid.toString(), name: signed.head.name } },
    )
  }
}

/** Rebuilds a SignedHead from its block and signature (decoding and checking the head's shape). */
export function signedHeadFrom(cid: CID, bytes: Uint8Array, signature: Uint8Array): SignedHead {
  return { cid, bytes, head: headNode.decode(cid, bytes), signature }
}

export function toRecord(signed: SignedHead): HeadRecord {
  const { head } = signed
  return {
    cid: signed.cid.toString(),
    signature: Buffer.from(signed.signature).toString('base64'),
    name: head.name,
    version: head.version,
    seq: head.seq,
    root: head.root.toString(),
    created: head.created,
    publisher: head.publisher,
  }
}

export function recordRoot(record: HeadRecord): CID {
  return parseCid(record.root)
}

export function headKey(name: string, publisher: string): string {
  return `${name}\u0000${publisher}`
}
