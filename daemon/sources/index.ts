/**
 * Sources: where `ferry download` (planned) gets what requirements files ask
 * for and `ferry bom build` does not take (a file by URL, an image from a
 * registry or the local Docker engine, an OS package and its dependencies).
 * This file holds only what a source is; the sources themselves and the
 * downloader that runs them (in parallel, with retries and resume, skipping
 * what the store already holds) arrive with that command.
 */
import type { Entry, Requirements, Store } from '../../store/index.js'
import type { CallOptions } from '../ops/index.js'

/** One `files:` item of a requirements file (`name`, then `url` or `path`, optional `sha256`, `mode`). */
export type FileRequirement = Requirements['files'][number]

/** One `images:` item (`ref`, optional `platform`, `from: registry | docker`). */
export type ImageRequirement = Requirements['images'][number]

/** One `packages:` item (`name`, optional `version`, `format: deb`, `arch`). */
export type PackageRequirement = Requirements['packages'][number]

/** A requirement of kind `K` together with where it was written. */
interface ItemOf<K extends Entry['kind'], R> {
  kind: K
  /** The module whose requirements file asks for it: the entry's `module`. */
  module: string
  /** That requirements file (absolute path): a local `path` is relative to its folder. */
  file: string
  requirement: R
}

/** One thing a requirements file asks for, as a downloader hands it to a {@link Source}. */
export type RequirementItem =
  | ItemOf<'file', FileRequirement>
  | ItemOf<'image', ImageRequirement>
  | ItemOf<'package', PackageRequirement>

/**
 * A way of getting one kind of artefact into the store, for example files
 * over HTTP(S), images over the Registry API v2, images from the local Docker
 * engine, or Debian packages through the machine's apt.
 *
 * A downloader asks every source, in order, whether it can handle an item,
 * and gives the item to the first that can. That source fetches it into
 * `store` (through the store's ingest, which cuts the bytes into chunks and
 * hashes them into blocks as they arrive), checks what it fetched against
 * what the requirement or its origin states (the `sha256` of a file, the
 * digests of an image's manifest and blobs, a package's checksum from its
 * repository's index) and returns the BOM entry that names it. It throws a
 * `FerryError` with a stable code (`ERR_CHECKSUM_MISMATCH` for content that
 * does not match, `ERR_NOT_FOUND`, `ERR_IO`, `ERR_ABORTED`, …); the blocks of
 * a failed fetch stay unreferenced until `ferry gc`.
 */
export interface Source {
  /** A short name for logs, progress and errors: `http`, `registry`, `docker`, `apt`. */
  readonly name: string

  /** Whether this source fetches `item` (by its kind, and e.g. a URL's scheme or an image's `from`). */
  canHandle(item: RequirementItem): boolean

  /**
   * Fetches `item` into `store` as verified blocks and returns its entry:
   * `kind`, `module`, `name`, `size`, `sha256` and `root` (the artefact's
   * file DAG), plus what its kind adds (an image's manifest and blobs, a
   * package's control fields). Reports bytes done of bytes total on
   * `options.onProgress`; stops, with `ERR_ABORTED`, once `options.signal` aborts.
   */
  fetch(item: RequirementItem, store: Store, options?: CallOptions): Promise<Entry>
}
