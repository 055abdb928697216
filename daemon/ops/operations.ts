import type { BuildSummary, GcResult, ImportResult, Inventory, VerifyReport } from '../../store/index.js'
import type { LoadArgs, LoadResult } from '../docker-load/index.js'
import type { DownloadEvent, DownloadSummary } from '../sources/downloader.js'
import type { EntrySummary, ExportSummary, HeadSummary, StatusSummary, TrustedKey } from './types.js'

/** Progress of a long operation: units done of units total (bytes, mostly), and what is being worked on. */
export type OnProgress = (done: number, total: number, label?: string) => void

/** Options of long operations; neither travels as JSON. */
export interface CallOptions {
  onProgress?: OnProgress
  /** Stops the operation (the daemon aborts when its client goes away). */
  signal?: AbortSignal
  /** What the operation reports beyond progress: a download's per-artefact events. */
  onEvent?: (event: DownloadEvent) => void
}

/** The apt repository key's public half (`ferry apt-key`). */
export interface AptKeySummary {
  /** ASCII-armored, for a `.asc` keyring file. */
  armored: string
  /** Binary (base64 here), for a `.gpg` keyring file. */
  binary: string
  /** Hex fingerprint. */
  fingerprint: string
  /** The private key's file in the store. */
  file: string
}

/** `ferry bom build`: requirements files (absolute paths) into a signed, published head. */
export interface BuildArgs {
  files: string[]
  name: string
  version: string
  seq?: number
  allowDowngrade?: boolean
}

/**
 * `ferry download`: requirements files or folders of them (absolute paths)
 * fetched into a signed, published head.
 */
export interface DownloadArgs {
  paths: string[]
  name: string
  version: string
  seq?: number
  allowDowngrade?: boolean
  /** Transfers at once. @default 4 */
  jobs?: number
  /** Images' platform unless one says its own. @default 'linux/amd64' */
  platform?: string
  /** Absolute path of the registries file (credentials, CAs, insecure hosts). */
  registriesFile?: string
  /** Absolute path of the apt sources file. */
  aptSourcesFile?: string
  /** The Docker engine for `from: docker` images (the CLI passes its $DOCKER_HOST). */
  dockerHost?: string
}

/** `ferry export`. Paths are absolute: the daemon has its own working directory. */
export interface ExportArgs {
  heads: string[]
  /** Head names, CIDs, or absolute paths of inventory files. */
  base?: string[]
  out: string
  /** Replace an existing regular file at `out` (or its parts). */
  force?: boolean
  splitBytes?: number
  /** Carry changed chunks as patches against the base releases this store holds. @default true */
  patches?: boolean
  /** zstd level of the patches (1–19). @default 3 */
  deltaLevel?: number
  /** Also carry head `ferry` (the tool itself) when this store has it and it is not named. @default true */
  self?: boolean
}

/** `ferry import` of one archive file (an absolute path). */
export interface ImportArgs {
  file: string
  allowDowngrade?: boolean
}

/**
 * Everything the CLI does with a store, one method per thing. Implemented
 * over an open store ({@link localOperations}) and over the daemon's unix
 * socket (`connectDaemon`). Arguments and results are plain JSON.
 */
export interface Operations {
  /** The heads, sorted by name (`ferry ls`). */
  heads(): Promise<HeadSummary[]>
  /** The entries of a head or BOM CID (`ferry ls HEAD`). */
  entries(args: { ref: string }): Promise<EntrySummary[]>
  /**
   * The bytes of `HEAD/MODULE/NAME`, a head or a file DAG CID (`ferry cat`),
   * each block checked against its hash; a bad target fails on the first read.
   */
  cat(args: { ref: string }, options?: Pick<CallOptions, 'signal'>): AsyncIterable<Uint8Array>
  buildBom(args: BuildArgs, options?: CallOptions): Promise<BuildSummary>
  /** Fetches what requirements files ask for, then signs and publishes a head; events through `onEvent`. */
  download(args: DownloadArgs, options?: CallOptions): Promise<DownloadSummary>
  /**
   * Puts an image of the store into a Docker engine (`ferry load`): a
   * `docker load` stream made from its blocks; progress in bytes sent.
   */
  load(args: LoadArgs, options?: CallOptions): Promise<LoadResult>
  /** Re-hashes every block below the heads, or below one head or CID. */
  verify(args: { ref?: string }, options?: CallOptions): Promise<VerifyReport>
  gc(options?: CallOptions): Promise<GcResult>
  /** Blocks, bytes, packs and heads (`ferry status` without a daemon). */
  storeStatus(): Promise<StatusSummary>
  /** This store's publisher key token. */
  keyShow(): Promise<{ key: string }>
  /** The public half of the store's apt repository key (`ferry apt-key`), made on first use. */
  aptKey(): Promise<AptKeySummary>
  trustAdd(args: { key: string; note?: string }): Promise<void>
  trustList(): Promise<TrustedKey[]>
  trustRemove(args: { key: string }): Promise<void>
  /** Writes the heads named, and head `ferry` unless `self: false` (see `self-head.ts`), to an archive. */
  exportArchive(args: ExportArgs, options?: CallOptions): Promise<ExportSummary>
  importArchive(args: ImportArgs, options?: CallOptions): Promise<ImportResult>
  /** What this store holds, for the sender's next `export --base`. */
  inventory(): Promise<Inventory>
}
