/**
 * /ferry/sync/1.0.0 and 1.1.0: fetch every block missing below a root, in
 * large pipelined batches from several peers at once, each block verified
 * before it is stored. In 1.1.0 the requester names the releases it holds
 * and the responder may send changed blocks as patches against them
 * (expanded and verified on arrival); a peer of either version syncs with
 * any other. The wire format is in messages.ts; limits and defaults in
 * constants.ts. The responder side (registerSync) bounds what a peer can
 * hold: streams a peer, bytes a want list, time until it arrives.
 */
import type { Connection } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { ArenaPool, Block, FerryError, PatchNode } from '../../store/index.js'
import type { PatchRequest } from './messages.js'
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
  /** Ask for patches against these releases (1.1.0; a 1.0.0 peer sends blocks). */
  patch?: PatchRequest
}

/**
 * Gets each reply in request order. A block: `bytes` is a view held in the
 * request's buffer, which the callee then owns; undefined when the peer lacks
 * it. A patch: it answers the wants from `index` on, one a target; `bytes`
 * is the frame's view (the callee owns it; `patch.bytes` lies in it).
 */
export type OnFrame = (
  index: number,
  bytes: Uint8Array | undefined,
  patch?: PatchNode,
) => Promise<void> | void

/** A peer that holds the root being fetched. */
export interface Provider {
  /** Peer ID, for logs and status. */
  readonly id: string
  /**
   * Asks for `cids`; `onFrame` gets each reply in request order: a view held in `options.buffer`,
   * which `onFrame` then owns, or undefined when the peer lacks it.
   */
  request(cids: CID[], onFrame: OnFrame, options: RequestOptions): Promise<void>
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
  /**
   * The complete releases held here that a peer may make patches against for `root`
   * (at most MAX_PATCH_BASES, the likeliest first). Without it, no patches are asked for.
   */
  patchBases?(root: CID, options?: AbortOptions): Promise<CID[]>
  /**
   * The blocks a patch stands for, expanded against the bases held here and verified
   * (ERR_CORRUPT_BLOCK when it does not expand to its targets). Needed with `patchBases`.
   */
  expand?(patch: PatchNode): Promise<Block[]>
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
  /** Blocks received and verified (as themselves or inside patches), and the bytes that came for them. */
  blocks: number
  bytes: number
  /** Blocks found missing so far (grows as index nodes arrive). */
  discovered: number
  /** Providers in use (not dropped). */
  providers: string[]
  /** Bytes received from each provider, by peer ID. */
  bytesByPeer: Record<string, number>
  /** Of `blocks`, those that came inside patches, and the bytes they expanded to. */
  patched: number
  patchedBytes: number
}

export interface FetchResult extends FetchProgress {
  seconds: number
}

/** One answer to a want: a block (undefined when not held), or a patch node standing for the next `covers` wants. */
export type Answer = Uint8Array | undefined | { patch: Uint8Array; covers: number }

/** Makes patches for a 1.1.0 want list that names the releases the requester holds. */
export interface PatchAnswers {
  /**
   * The answers to `want`, in order: blocks read with `reader`, runs of them as patches against
   * `request.bases` where that pays. Without a usable base, the blocks as `reader` gives them.
   */
  answer(
    want: CID[],
    request: PatchRequest,
    reader: BlockReader,
    options?: AbortOptions,
  ): AsyncIterable<Answer>
}

/** What the responder side needs of its host. */
export interface SyncComponents {
  /** Reads the blocks a peer asks for. */
  reader: BlockReader
  /** Answers 1.1.0 want lists with patches. @default blocks only (1.1.0 is still spoken) */
  patches?: PatchAnswers
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
  /**
   * Speak 1.1.0 too (patches). False registers 1.0.0 only, as a ferry before patches did.
   * @default true
   */
  patches?: boolean
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
  MAX_PATCH_BASES,
  MAX_WANT_BLOCKS,
  MAX_WANT_BYTES,
  SYNC_PROTOCOL,
  SYNC_PROTOCOL_PATCHES,
  TIMEOUT_MS,
} from './constants.js'
export { DagFetch, noProgress } from './fetcher.js'
export type { PatchRequest } from './messages.js'
export { ReceiveBuffer } from './receive-buffer.js'
export { serveWant } from './server.js'
export { registerSync } from './service.js'
export type { DurableWriter } from './sink.js'
