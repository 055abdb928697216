import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import type { Block, Blockstore } from '../blocks/blockstore.js'
import { FerryError } from '../errors.js'
import {
  type BomNode,
  bomNode,
  compareEntries,
  decodeNamed,
  type Entry,
  entriesNode,
  type ModuleRef,
} from './nodes/index.js'

/** Entries inline in the BOM node up to this encoded size; beyond, pages of about this size. */
const PAGE_BYTES = 512 * 1024

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
  const modules = [...input.modules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const sizes = entries.map((entry) => dagCbor.encode(entry).byteLength)
  const total = sizes.reduce((a, b) => a + b, 0)
  const blocks: Block[] = []
  let list: Entry[] | CID[] = entries
  if (total > PAGE_BYTES) {
    const pages: CID[] = []
    let page: Entry[] = []
    let pageBytes = 0
    const flush = () => {
      const block = entriesNode.encode({ type: 'entries', entries: page })
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
  const root = bomNode.encode({
    type: 'bom',
    name: input.name,
    version: input.version,
    modules,
    entries: list,
  })
  blocks.push(root)
  return { root: root.cid, blocks }
}

/** The BOM node at `root`: ERR_INVALID_ARGUMENT when it is another kind of node, ERR_CORRUPT_BLOCK when malformed. */
export async function loadBom(blockstore: Blockstore, root: CID): Promise<BomNode> {
  return decodeNamed(bomNode, root, await blockstore.get(root))
}

/** Streams a BOM's entries in order, loading pages as needed. */
export async function* entriesOf(blockstore: Blockstore, root: CID): AsyncGenerator<Entry> {
  const bom = await loadBom(blockstore, root)
  for (const item of bom.entries) {
    const page = CID.asCID(item)
    if (page === null) yield item as Entry
    else yield* entriesNode.decode(page, await blockstore.get(page)).entries
  }
}
