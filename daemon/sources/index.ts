/**
 * Sources: where `ferry download` gets what requirements files ask for and
 * `ferry bom build` does not take: a file by URL, an image from a registry or
 * the local Docker engine, OS packages and their dependencies. This file is
 * the contract between the downloader and the sources; each source lives in
 * its own folder beside it (`http/`, `registry/`, `docker/`, `apt/`).
 */
import type { Entry, Requirements, Store } from '../../store/index.js'

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
  /** Where in that file, for messages: `files[2]`, `images[0]`, `packages[1]`. */
  field: string
  requirement: R
}

/** One thing a requirements file asks for, as the downloader hands it to a {@link Source}. */
export type RequirementItem =
  | ItemOf<'file', FileRequirement>
  | ItemOf<'image', ImageRequirement>
  | ItemOf<'package', PackageRequirement>

/** Transfers at once over every source of a download, unless `--jobs` says otherwise. */
export const DEFAULT_JOBS = 4

/** Images are resolved to this platform unless `--platform` or the image says another. */
export const DEFAULT_PLATFORM = 'linux/amd64'

/** What `ferry download`'s flags set for every source. */
export interface DownloadSettings {
  /**
   * The platform images are resolved to (`os/arch[/variant]`), unless an image says its own.
   * @default 'linux/amd64'
   */
  platform: string
  /** `--registries FILE`: credentials, CAs and insecure marks per registry host. */
  registriesFile?: string
  /** `--apt-sources FILE`: the target's apt sources (one-line `deb` format) and keys. */
  aptSourcesFile?: string
  /**
   * The Docker engine for `from: docker` images.
   * @default $DOCKER_HOST, else unix:///var/run/docker.sock
   */
  dockerHost?: string
}

/** How one artefact's fetch is reported; every source reports each artefact it produces. */
export interface ArtefactProgress {
  /** Bytes of this artefact received so far; `total` when known. */
  update(done: number, total?: number): void
  /** It is in the store: `fetched` over the wire, or already `held` there (nothing fetched). */
  finish(how: 'fetched' | 'held', bytes: number): void
}

/** What a source gets for one call besides its items. */
export interface SourceContext {
  store: Store
  settings: DownloadSettings
  /** Stops the work; the source then throws the signal's reason (or ERR_ABORTED). */
  signal: AbortSignal
  /**
   * Runs `fn` within the download's parallelism (`--jobs`): every network
   * transfer goes through it, so all sources share one limit.
   */
  limit<T>(fn: () => Promise<T>): Promise<T>
  /** A progress line for one artefact (a file, a blob, a .deb), named `label`. */
  progress(label: string): ArtefactProgress
  /** A line for the log or `--json` output (what was resolved, why a package was pulled in, …). */
  note(message: string, fields?: Record<string, unknown>): void
}

/**
 * A way of getting one kind of artefact into the store: files over
 * HTTP(S), images over the Registry API v2, images from the local Docker
 * engine, Debian packages through apt.
 *
 * The downloader gives each source all the items it `canHandle`, in one call
 * (apt resolves one dependency closure over every package asked for). The
 * source fetches them into `ctx.store` as verified blocks (through the
 * store's ingest, as bytes arrive; nothing whole in memory), checks them
 * against what the requirement or the origin states (a file's `sha256`, an
 * image's digests, a package's SHA256 from its signed index), skips what the
 * store already holds (`store.artefacts.find(sha256)`), and returns the
 * entries that name them. On failure it throws a `FerryError` that names the
 * item (its file and field) and the cause (`ERR_DIGEST_MISMATCH`,
 * `ERR_NOT_FOUND`, `ERR_UNAUTHORIZED`, `ERR_UNREACHABLE`, `ERR_HTTP`,
 * `ERR_TRUNCATED`, `ERR_PLATFORM_NOT_FOUND`, `ERR_UNSATISFIABLE`, …); what was
 * verified stays in the store, so a re-run continues.
 */
export interface Source {
  /** A short name for logs, progress and errors: `http`, `registry`, `docker`, `apt`. */
  readonly name: string
  /** Whether this source fetches `item` (by its kind, and e.g. a URL's scheme or an image's `from`). */
  canHandle(item: RequirementItem): boolean
  /** Fetches `items` and returns their entries (an item may give several: a package's dependencies). */
  fetch(items: RequirementItem[], ctx: SourceContext): Promise<Entry[]>
}
