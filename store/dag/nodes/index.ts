/**
 * The index node types of ferry's DAGs, one codec a file, and the registry
 * that walkers dispatch on. A new node type is one file here and one line
 * in `builtins`.
 */
import type { CID } from 'multiformats/cid'
import { decodeNode } from '../../blocks/cid.js'
import { FerryError } from '../../errors.js'
import { linksOf } from '../dag.js'
import { bomNode } from './bom.js'
import { entriesNode } from './entries.js'
import { envelopeNode, partNode } from './envelope.js'
import { fileNode } from './file.js'
import { headNode } from './head.js'
import { type NodeCodec, type TypedNode, typeOf } from './node-type.js'
import { patchNode } from './patch.js'

export { type BomNode, bomNode, type ModuleRef } from './bom.js'
export { type EntriesPage, entriesNode } from './entries.js'
export {
  compareEntries,
  type Entry,
  type EntryBase,
  type EntryKind,
  entryLabel,
  entrySizes,
  type FileEntry,
  type ImageBlob,
  type ImageEntry,
  type OtherEntry,
  type PackageEntry,
} from './entry.js'
export {
  type BaseRef,
  type EnvelopeHead,
  type EnvelopeNode,
  envelopeNode,
  type PartNode,
  partNode,
} from './envelope.js'
export { type FileNode, fileNode } from './file.js'
export { type HeadNode, headNode } from './head.js'
export { decodeNamed, defineNode, type NodeCodec, type TypedNode, typeOf } from './node-type.js'
export {
  type ByteRange,
  MAX_PATCH_BASE_BYTES,
  MAX_PATCH_TARGET_BYTES,
  MAX_PATCH_TARGETS,
  type PatchBase,
  type PatchNode,
  patchNode,
} from './patch.js'

const builtins: NodeCodec[] = [fileNode, bomNode, entriesNode, headNode, envelopeNode, partNode, patchNode]

const registry = new Map<string, NodeCodec>(builtins.map((codec) => [codec.type, codec]))

/**
 * Adds a node type (tests, and a type before it is built in); returns what
 * takes it out again. A built-in type cannot be replaced.
 */
export function registerNodeType(codec: NodeCodec): () => void {
  if (registry.has(codec.type)) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `node type ${codec.type} is already registered`)
  }
  registry.set(codec.type, codec)
  return () => {
    registry.delete(codec.type)
  }
}

/** The codec of a node type, if ferry knows it. */
export function nodeCodec(type: string): NodeCodec | undefined {
  return registry.get(type)
}

/**
 * Decodes the index node `cid` and checks it against its type's codec
 * (ERR_CORRUPT_BLOCK when malformed); `codec` is undefined for a type ferry
 * does not know.
 */
export function decodeIndexNode(
  cid: CID,
  bytes: Uint8Array,
): { codec: NodeCodec; node: TypedNode } | { codec: undefined; node: unknown } {
  const value = decodeNode(cid, bytes)
  const type = typeOf(value)
  const codec = type === undefined ? undefined : registry.get(type)
  return codec === undefined ? { codec, node: value } : { codec, node: codec.check(cid, value) }
}

/*
 * A dag-cbor node of a type ferry does not know (not ferry's, or a newer
 * ferry's) gives every CID inside it, size unknown: following too much costs
 * only bytes, while following too little would let gc drop blocks something
 * still needs, and completeness call a DAG complete that is not.
 */

/** The links walkers follow below the index node `cid`, as its type's codec says. */
export function nodeLinks(cid: CID, bytes: Uint8Array): CID[] {
  const { codec, node } = decodeIndexNode(cid, bytes)
  return codec === undefined ? linksOf(node) : codec.links(node)
}

/** nodeLinks, each with the bytes of content it stands for (0 when unknown). */
export function sizedLinks(cid: CID, bytes: Uint8Array): Array<[CID, number]> {
  const { codec, node } = decodeIndexNode(cid, bytes)
  return codec === undefined ? linksOf(node).map((link) => [link, 0]) : codec.sizes(node)
}
