/**
 * /ferry/sync/1.0.0: fetch every block missing below a root, in large
 * pipelined batches from several peers at once, each block verified before
 * it is stored. The wire format is in messages.ts; limits and defaults in
 * constants.ts. The responder side (registerSync) bounds what a peer can
 * hold: streams a peer, bytes a want list, time until it arrives.
 */
import type { Connection } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { ArenaPool, Block, FerryError } from '../../store/index.js'
import type { ReceiveBuffer } from './receive-buffer.js'
import type { DurableWriter } from './sink.js'

export interface AbortOptions {
  signal?: AbortSignal
}

/** Reads blocks for the responder side: bytes in request order, undefined for a block not held. */
export interface BlockReader {
  readMany(cids: CID[], options?: AbortOptions): AsyncIterable<Uint8Array | undefined>
}

export interface RequestOptions extends AbortOptions {
  /** Where received blocks are written. */
  buffer: ReceiveBuffer
  /** Give up (ERR_PEER) when the peer sends nothing for this long while its reply is awaited. */
  idleMs?: number
}

/** A peer that holds the root being fetched. */
export interface Provider {
  /** Peer ID, for logs and status. */
  readonly id: string
  /**
   * Asks for `cids`; `onFrame` gets each reply in request order: a view held in `options.buffer`,
   * which `onFrame` then owns, or undefined when the peer lacks it.
   */
  request(
    cids: CID[],
    onFrame: (index: number, bytes: Uint8Array | undefined) => Promise<void>,
    options: RequestOptions,
  ): Promise<void>
  /**
   * Called when the provider is left out of the fetch: it misbehaved (ERR_CORRUPT_BLOCK: it sent
   * a block that does not match its CID) or failed too often (ERR_PEER: three requests running, a
   * stall included). The error's message says why.
   */
  drop?(why: FerryError): void
}

/** What a fetch needs of the store. */
export interface FetchComponents {
  /** The blocks missing below a present node, skipping complete subtrees (Completeness.missing). */
  missing(root: CID, options?: AbortOptions): AsyncIterable<CID>
  /** Stores an index node durably and readably at once: the next walk starts from it. */
  putIndex(block: Block): Promise<void>
  /** Stores leaves in groups and yields each CID once durable. */
  writeLeaves: DurableWriter
  /** The arenas received blocks are written into (Store's pipeline.syncArenas). */
  arenas: ArenaPool
  /**
   * Checks a received block against its CID, at once, on the calling thread: true when its
   * bytes match (`blockMatches`).
   */
  verify(cid: CID, bytes: Uint8Array): boolean
}

export interface FetchInit extends AbortOptions {
  /**
   * CIDs in one want list.
   * @default 128
   */
  batchBlocks?: number
  /**
   * Want lists in flight to each provider at once.
   * @default 2
   */
  inFlightPerProvider?: number
  /**
   * A provider that sends nothing for this long while its reply is awaited has failed that want
   * list: it is asked again, of any provider, and a provider that fails three times running is
   * dropped. So a stalled peer can't hold a fetch up for ever.
   * @default 30 000
   */
  peerTimeoutMs?: number
}

export interface FetchProgress {
  /** Blocks and bytes received and verified. */
  blocks: number
  bytes: number
  /** Blocks found missing so far (grows as index nodes arrive). */
  discovered: number
  /** Providers in use (not dropped). */
  providers: string[]
  /** Bytes received from each provider, by peer ID. */
  bytesByPeer: Record<string, number>
}

export interface FetchResult extends FetchProgress {
  seconds: number
}

/** What the responder side needs of its host. */
export interface SyncComponents {
  /** Reads the blocks a peer asks for. */
  reader: BlockReader
  /**
   * Runs each answer, once its want list has arrived (the daemon holds its gc gate shared meanwhile).
   * @default runs it as is
   */
  guard?<T>(answer: () => Promise<T>): Promise<T>
  /** A stream a peer opened failed (want list out of shape or late, reset): for the log. */
  failed?(err: Error, connection: Connection): void
}

export interface SyncInit {
  /**
   * Want lists one peer may have open with us at once (a connection's streams of this protocol);
   * one more is reset as it opens.
   * @default 32
   */
  maxInboundStreams?: number
  /**
   * Want lists we may have open to one peer at once.
   * @default 32
   */
  maxOutboundStreams?: number
  /**
   * How long a peer that opened a stream has to send its whole want list before the stream is
   * reset (the answer after it is bounded by backpressure, not time).
   * @default 10 000
   */
  timeoutMs?: number
  /** Aborts the answers in progress (the host is stopping). */
  signal?: AbortSignal
}

/** The registered responder side. */
export interface Sync {
  /** Removes the handler. */
  unregister(): Promise<void>
}

export type { ProtocolHost } from '../stream/index.js'
export { requestBlocks } from './client.js'
export {
  MAX_FRAME_BYTES,
  MAX_INBOUND_STREAMS,
  MAX_OUTBOUND_STREAMS,
  MAX_WANT_BLOCKS,
  MAX_WANT_BYTES,
  SYNC_PROTOCOL,
  TIMEOUT_MS,
} from './constants.js'
export { DagFetch } from './fetcher.js'
export { ReceiveBuffer } from './receive-buffer.js'
export { serveWant } from './server.js'
export { registerSync } from './service.js'
export type { DurableWriter } from './sink.js'
