import { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { linksOf } from '../dag.js'
import { count, link, text } from './fields.js'

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

/** The fields every entry has; kind-specific ones are the kind's business. */
export const entryFields = v.object(
  {
    kind: v.picklist(['file', 'image', 'package'], 'must be file, image or package'),
    module: text,
    name: text,
    size: count,
    sha256: text,
    root: link,
    mode: v.optional(count),
  },
  'must be an entry',
)

/**
 * An entry's links: its root, standing for the artefact's size, then any
 * other CID it holds (an image's blobs), size not read here.
 */
export function entrySizes(entry: Entry): Array<[CID, number]> {
  const others = linksOf(entry).filter((cid) => !cid.equals(entry.root))
  return [[entry.root, entry.size], ...others.map((cid): [CID, number] => [cid, 0])]
}

/** A list of entries, each inline or a link to an entries page (checked as what it looks like). */
export const entryList = v.array(
  v.lazy((item) => (CID.asCID(item) === null ? entryFields : link)),
  'must be a list',
)

/** The sized links of an entry list: an entry's own, or a page (whose size the BOM does not say). */
export function entryListSizes(entries: Array<Entry | CID>): Array<[CID, number]> {
  return entries.flatMap((item) => {
    const page = CID.asCID(item)
    return page === null ? entrySizes(item as Entry) : [[page, 0] as [CID, number]]
  })
}

/** The order of entries in a BOM: by module, kind, name. */
export function compareEntries(a: Entry, b: Entry): number {
  return cmp(a.module, b.module) || cmp(a.kind, b.kind) || cmp(a.name, b.name)
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** `module/name`, the way people and `ferry cat` name an entry. */
export function entryLabel(entry: Pick<Entry, 'module' | 'name'>): string {
  return `${entry.module}/${entry.name}`
}
