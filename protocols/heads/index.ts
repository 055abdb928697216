/**
 * /ferry/heads/1.0.0: on connect and on every change, two peers swap their
 * signed heads. What to do with them (trust, following, rollback) is the
 * host's call; this protocol only carries and decodes them, and bounds what
 * a peer can hold: streams a peer, bytes a message, time an exchange.
 */
import type { Connection } from '@libp2p/interface'
import type { SignedHead } from '../../store/index.js'

/** `signal` aborts the operation (an exchange's stream is reset). */
export interface AbortOptions {
  signal?: AbortSignal
}

/** A peer's heads as received: signatures not yet checked; malformed entries left out and counted. */
export interface ReceivedHeads {
  heads: SignedHead[]
  rejected: number
}

/** Options of one exchange, either way. */
export interface ExchangeOptions extends AbortOptions {
  /**
   * Reset the stream (ERR_PEER) when the exchange has not finished within this.
   * @default no limit
   */
  timeoutMs?: number
}

/** What the protocol needs of its host. */
export interface HeadsComponents {
  /** Our heads, as sent to every peer that exchanges with us. */
  heads(): Promise<SignedHead[]>
  /** What a peer sent on an exchange it opened. */
  received(connection: Connection, theirs: ReceivedHeads): Promise<void>
  /** An exchange a peer opened failed (out of shape, too slow, reset): for the log. */
  failed?(err: Error, connection: Connection): void
}

export interface HeadsInit {
  /**
   * Exchanges one peer may have open with us at once (a connection's streams of this protocol);
   * one more is reset as it opens.
   * @default 4
   */
  maxInboundStreams?: number
  /**
   * Exchanges we may have open to one peer at once.
   * @default 4
   */
  maxOutboundStreams?: number
  /**
   * How long one exchange, either way, may take before its stream is reset: so a peer that opens
   * a stream and sends nothing, or never answers ours, holds it only this long.
   * @default 10 000
   */
  timeoutMs?: number
  /** Aborts the exchanges peers opened (the host is stopping). */
  signal?: AbortSignal
}

/** The registered protocol. */
export interface Heads {
  /** Swaps heads with the peer on `connection`: sends ours, returns theirs. */
  exchange(connection: Connection, options?: AbortOptions): Promise<ReceivedHeads>
  /** Removes the handler. */
  unregister(): Promise<void>
}

export type { ProtocolHost } from '../stream/index.js'
export {
  HEADS_PROTOCOL,
  MAX_HEADS,
  MAX_HEADS_BYTES,
  MAX_INBOUND_STREAMS,
  MAX_OUTBOUND_STREAMS,
  TIMEOUT_MS,
} from './constants.js'
export { exchangeHeads, serveHeads } from './exchange.js'
export { decodeHeads, encodeHeads } from './messages.js'
export { registerHeads } from './service.js'
