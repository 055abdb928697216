/**
 * The JSON shapes the daemon's API answers and the CLI prints with --json.
 * Tests take them from here: change them only together with DESIGN.md.
 */

import type { ExportResult, HeadSummary } from '../../store/index.js'

/** A head as `ferry ls --json` (and `status --json`, inventories) print it. */
export type { HeadSummary }

/** An entry as `ferry ls HEAD --json` prints it. */
export interface EntrySummary {
  kind: string
  module: string
  name: string
  size: number
  sha256: string
  root: string
}

/** `ferry export --json`: what the store wrote, and the heads added to those named. */
export interface ExportSummary extends ExportResult {
  /** Heads carried without being named: `ferry` (the tool itself) unless `--no-self`. */
  added: string[]
}

/** A trusted publisher key as `ferry trust ls --json` prints it. */
export interface TrustedKey {
  key: string
  /** ISO date when it was trusted. */
  added: string
  note?: string
}

/** What the store holds, without a daemon: `ferry status --json`. */
export interface StatusSummary {
  store: { dir: string; blocks: number; bytes: number; packs: number }
  heads: HeadSummary[]
}

/** A peer the daemon knows. */
export interface PeerStatus {
  /** libp2p peer id. */
  id: string
  /** Multiaddrs the peer is known at. */
  addrs: string[]
  connected: boolean
  /** Why the last dial of a configured peer failed (e.g. cluster secrets that differ), while it does. */
  error?: string
}

/**
 * One head the daemon follows and syncs: `status --json` `sync[]`, `ferry sync --json` `heads[]`, and
 * what the sync jobs report. One type for daemon, CLI and tests.
 */
export interface SyncStatus {
  name: string
  version: string
  seq: number
  /** The root being synced (the newest head of that name seen). */
  root: string
  /** syncing: fetching; waiting: no peer can serve it now (retried when one announces it); complete; failed. */
  state: 'syncing' | 'waiting' | 'complete' | 'failed'
  /** Blocks received so far. */
  haveBlocks: number
  /** Blocks known to be missing still (grows as index nodes arrive). */
  wantBlocks: number
  /** Bytes that came for the blocks received (blocks, and patches standing for blocks). */
  bytesReceived: number
  /** Of `haveBlocks`, those that came inside patches (sync 1.1.0), and the bytes they expanded to. */
  patchedBlocks: number
  patchedBytes: number
  /** Bytes a second over this attempt. */
  rate: number
  /** Peer IDs asked for this head's blocks. */
  peers: string[]
  /** Bytes received from each peer, by peer ID. */
  bytesByPeer: Record<string, number>
  /** Why the last attempt failed (state `failed`, or `waiting` after a failure). */
  error?: string
  /** The ferry error code of that failure, when it had one (ERR_NO_SPACE: this store's disk is full). */
  errorCode?: string
}

/** `GET /api/status` of a running daemon; `ferry status --json` with a daemon. */
export interface DaemonStatus extends StatusSummary {
  peerId: string
  /** Multiaddrs the daemon listens on. */
  addrs: string[]
  peers: PeerStatus[]
  sync: SyncStatus[]
  /** The serving port (`--serve`), when there is one: `HOST:PORT` bound, and what it has answered. */
  serve?: { address: string; tls: boolean; requests: number; bytes: number }
}
