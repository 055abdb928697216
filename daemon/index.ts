/**
 * The long-running process on a store: the libp2p node and its replicator,
 * the API on `STORE/ferry.sock`, and the operations every command runs. This
 * file is its public surface, all that `cli/` imports.
 *
 * Importing it loads no libp2p: `runDaemon`, `pullOnce` and
 * `writeClusterSecret` load their parts when called, because the libp2p
 * stack would slow the start of every other command (see bench/RESULTS.md).
 */

// libp2p 3 needs Promise.withResolvers, which Node 20 lacks: set before any of it loads.
import './runtime/shim.js'
import type { BuildSummary } from '../store/index.js'
import type { BundleArgs, BundleResult } from './bundle/index.js'
import type { DaemonFlags } from './config.js'
import type { CallOptions, Operations } from './ops/operations.js'
import type { PullOptions, PullResult } from './p2p/pull.js'

export type { BundleArgs, BundleResult } from './bundle/index.js'
export { type ClientConfigFile, checkTarget, clientConfig } from './client-config/index.js'
export {
  type DaemonConfig,
  type DaemonFlags,
  DEFAULT_LISTEN,
  parseDeltaLevel,
  parsePeerTimeout,
} from './config.js'
export type { LoadArgs, LoadResult } from './docker-load/index.js'
// The client alone, not the folder's index: the server side (routing) is the daemon's, not every command's.
export { connectDaemon, type RemoteOperations } from './http/api/client.js'
export {
  type AptKeySummary,
  type BuildArgs,
  type CallOptions,
  type DownloadArgs,
  type ExportArgs,
  type ImportArgs,
  localOperations,
  type OnProgress,
  type Operations,
} from './ops/index.js'
export type * from './ops/types.js'
export type { PullOptions, PullResult } from './p2p/pull.js'
// From its own module, not the source's index: that would load the HTTP client (undici) into every command.
export { APT_SOURCES_HELP } from './sources/apt/sources-file.js'
export type { DownloadEvent, DownloadSummary } from './sources/downloader.js'
export { DEFAULT_JOBS, DEFAULT_PLATFORM } from './sources/index.js'

/** `ferry daemon`: runs a daemon on the store until SIGTERM or SIGINT, then stops it cleanly. */
export async function runDaemon(storeDir: string, flags: DaemonFlags): Promise<void> {
  const { runDaemon: run } = await import('./run.js')
  await run(storeDir, flags)
}

/**
 * `ferry sync` with no daemon on the store: a dial-only node lives just for
 * this pull of `head` (or every head the peer offers) from `address`.
 */
export async function pullOnce(
  storeDir: string,
  address: string,
  options: PullOptions & { secret?: string; peerTimeoutSeconds?: number; patches?: boolean } = {},
): Promise<PullResult> {
  const { pullOnce: pull } = await import('./p2p/pull-once.js')
  return pull(storeDir, address, options)
}

/** `ferry secret gen`: writes a new cluster secret (libp2p pnet) to `path`, mode 0600. */
export async function writeClusterSecret(path: string): Promise<void> {
  const { writeClusterSecret: write } = await import('./p2p/secret.js')
  await write(path)
}

/**
 * `ferry bundle`: writes ferry, its production dependencies and the running
 * Node.js as one tar.gz into `args.out` (see bundle/index.ts).
 */
export async function writeBundle(args: BundleArgs): Promise<BundleResult> {
  const { writeBundle: write } = await import('./bundle/index.js')
  return write(args)
}

/** `ferry bundle --publish`: publishes a written bundle as head `ferry` (see bundle/publish.ts). */
export async function publishBundle(
  ops: Operations,
  bundle: BundleResult,
  options: CallOptions = {},
): Promise<BuildSummary> {
  const { publishBundle: publish } = await import('./bundle/publish.js')
  return publish(ops, bundle, options)
}
