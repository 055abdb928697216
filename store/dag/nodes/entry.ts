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

/** Image and package entries carry kind-specific fields (see {@link ImageEntry}, {@link PackageEntry}). */
export interface OtherEntry extends EntryBase {
  kind: 'image' | 'package'
  [field: string]: unknown
}

/** A blob of an image (its config or a layer), or a manifest an index names: OCI digest = sha256 of its bytes. */
export interface ImageBlob {
  /** `sha256:` and the hex sha256 of the bytes as served. */
  digest: string
  mediaType: string
  size: number
  /** The bytes' file DAG. */
  root: CID
  /** For a manifest an index names: the platform it is for (`linux/amd64`). */
  platform?: string
}

/**
 * An image (`ferry download` of an `images:` item). Its `root`, `sha256` and
 * `size` are those of the manifest, or of the index when an index is kept, as
 * served: `sha256` is the hex of `digest`. `name` is the normalised reference
 * (`docker.io/library/busybox:1.36`, or `…@sha256:…` when given by digest).
 */
export interface ImageEntry extends EntryBase {
  kind: 'image'
  /** As written in the requirements file. */
  ref: string
  /** Registry host and repository, normalised as docker does (`docker.io/library/busybox`). */
  repository: string
  /** The tag asked for, when the reference has one. */
  tag?: string
  /** The platform resolved to, or `all` when an index is kept whole. */
  platform: string
  /** `sha256:…` of the manifest (or index) bytes at `root`. */
  digest: string
  mediaType: string
  /** For an index: the manifests it names that are kept (each also in `blobs`' sense: digest, root). */
  manifests?: ImageBlob[]
  /** Every config and layer of every manifest kept, each once. */
  blobs: ImageBlob[]
}

/**
 * A Debian package (`ferry download` of a `packages:` item, or a dependency
 * it pulled in). `root`, `sha256` and `size` are the .deb's; `name` is its
 * file name (`curl_7.88.1-10_amd64.deb`).
 */
export interface PackageEntry extends EntryBase {
  kind: 'package'
  format: 'deb'
  /** The package name (`Package:`). */
  package: string
  version: string
  arch: string
  /** Where its repository had it (`Filename:`), e.g. `pool/main/c/curl/curl_7.88.1-10_amd64.deb`. */
  filename: string
  /** The control stanza as in its repository's `Packages` (without Filename, Size and hashes). */
  control: string
  /** Why it is here: `requested`, or the package whose dependency pulled it in. */
  reason: string
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
