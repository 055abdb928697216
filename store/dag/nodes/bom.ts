import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import type { Block, Blockstore } from '../../blocks/blockstore.js'
import { encodeNode } from '../../blocks/cid.js'
import { FerryError } from '../../errors.js'
import { loadNode } from '../dag.js'

export type EntryKind = 'file' | 'image' | 'package'

/** What every entry has (DESIGN.md, The Merkle index). */
export interface EntryBase {
  kind: EntryKind
  module: string
  name: string
  size: number
  /** sha256 of the whole artefact, hex. */
  sha256: string
  /** The artefact's file DAG. */
  root: CID
}

export interface FileEntry extends EntryBase {
  kind: 'file'
  mode?: number
}

/** Image and package entries carry kind-specific fields; their sources arrive with `ferry download`. */
export interface OtherEntry extends EntryBase {
  kind: 'image' | 'package'
  [field: string]: unknown
}

export type Entry = FileEntry | OtherEntry

export interface ModuleRef {
  name: string
  version: string
}

/** The root of a release. `entries` holds entries, or links to entry pages when the list is large. */
export interface BomNode {
  type: 'bom'
  name: string
  version: string
  modules: ModuleRef[]
  entries: Entry[] | CID[]
}

export interface EntriesPage {
  type: 'entries'
  entries: Entry[]
}

/** Entries inline in the BOM node up to this encoded size; beyond, pages of about this size. */
const PAGE_BYTES = 512 * 1024

export function compareEntries(a: Entry, b: Entry): number {
  return cmp(a.module, b.module) || cmp(a.kind, b.kind) || cmp(a.name, b.name)
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Encodes a BOM: sorted entries, split into pages when large. Deterministic in its inputs. */
export function encodeBom(input: { name: string; version: string; modules: ModuleRef[]; entries: Entry[] }): {
  root: CID
  blocks: Block[]
} {
  const entries = [...input.entries].sort(compareEntries)
  for (let i = 1; i < entries.length; i++) {
    if (compareEntries(entries[i - 1], entries[i]) === 0) {
      const e = entries[i]
      throw new FerryError('ERR_INVALID_REQUIREMENTS', `duplicate entry ${e.module}/${e.kind}/${e.name}`)
    }
  }
  const modules = [...input.modules].sort((a, b) => cmp(a.name, b.name))
  const sizes = entries.map((entry) => dagCbor.encode(entry).byteLength)
  const total = sizes.reduce((a, b) => a + b, 0)
  const blocks: Block[] = []
  let list: Entry[] | CID[] = entries
  if (total > PAGE_BYTES) {
    const pages: CID[] = []
    let page: Entry[] = []
    let pageBytes = 0
    const flush = () => {
      const block = encodeNode({ type: 'entries', entries: page } satisfies EntriesPage)
      blocks.push(block)
      pages.push(block.cid)
      page = []
      pageBytes = 0
    }
    entries.forEach((entry, i) => {
      if (pageBytes + sizes[i] > PAGE_BYTES && page.length > 0) flush()
      page.push(entry)
      pageBytes += sizes[i]
    })
    if (page.length > 0) flush()
    list = pages
  }
  const bom: BomNode = { type: 'bom', name: input.name, version: input.version, modules, entries: list }
  const root = encodeNode(bom)
  blocks.push(root)
  return { root: root.cid, blocks }
}

export async function loadBom(blockstore: Blockstore, root: CID): Promise<BomNode> {
  const bom = await loadNode<BomNode>(blockstore, root)
  if (typeof bom?.type === 'string' && bom.type !== 'bom') {
    throw new FerryError('ERR_INVALID_ARGUMENT', `${root} is a ${bom.type} node, not a release (BOM)`)
  }
  if (bom?.type !== 'bom' || !Array.isArray(bom.entries)) {
    throw new FerryError('ERR_CORRUPT_BLOCK', `block ${root} is not a BOM node`)
  }
  return bom
}

/** Streams a BOM's entries in order, loading pages as needed. */
export async function* entriesOf(blockstore: Blockstore, root: CID): AsyncGenerator<Entry> {
  const bom = await loadBom(blockstore, root)
  for (const item of bom.entries) {
    if (isEntry(item)) {
      yield item
    } else {
      const page = await loadNode<EntriesPage>(blockstore, item)
      if (page?.type !== 'entries')
        throw new FerryError('ERR_CORRUPT_BLOCK', `block ${item} is not an entries page`)
      yield* page.entries
    }
  }
}

function isEntry(item: Entry | CID): item is Entry {
  return typeof (item as Entry).kind === 'string'
}

/** `module/name`, the way people and `ferry cat` name an entry. */
export function entryLabel(entry: Pick<Entry, 'module' | 'name'>): string {
  return `${entry.module}/${entry.name}`
}
