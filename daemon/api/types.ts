/**
 * The JSON shapes the daemon's API answers and the CLI prints with --json.
 * Tests take them from here: change them only together with DESIGN.md.
 */

import type { HeadSummary } from '../../store/index.js'

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
}

/** One head the daemon follows and syncs. */
export interface SyncStatus {
  name: string
  /** The root being synced (the newest head of that name seen). */
  root: string
  /** What the sync of this head is doing, e.g. `syncing`, `complete`, `waiting` (no peer has it), `error`. */
  state: string
  haveBlocks: number
  wantBlocks: number
  bytesReceived: number
  /** Bytes per second, recently. */
  rate: number
}

/** `GET /api/status` of a running daemon; `ferry status --json` with a daemon. */
export interface DaemonStatus extends StatusSummary {
  peerId: string
  /** Multiaddrs the daemon listens on. */
  addrs: string[]
  peers: PeerStatus[]
  sync: SyncStatus[]
}
