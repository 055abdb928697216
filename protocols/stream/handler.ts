import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { abortStream, asError } from './abort.js'

/** What a node offers to register a protocol on. */
export type ProtocolHost = Pick<Libp2p, 'handle' | 'unhandle'>

/**
 * How each protocol registers on a node (js-libp2p's service factories, flattened): the host's
 * `components` it needs, its `init` options, and the registered protocol it resolves with.
 */
export type Register<Components, Init, Registered> = (
  node: ProtocolHost,
  components: Components,
  init?: Init,
) => Promise<Registered>

/** How many streams of one protocol a connection may carry at once, each way. */
export interface StreamCaps {
  /** Streams of the protocol one connection may have open to us at once; one more is reset as it opens. */
  maxInboundStreams?: number
  /** Streams of the protocol we may have open on one connection at once. */
  maxOutboundStreams?: number
}

/** Hears every inbound stream whose handler failed (for the log). */
export type OnFailed = (err: Error, connection: Connection) => void

/**
 * Registers `serve` for `protocol` on `node` with the stream caps of `init`
 * (`defaults` for those it leaves out); a failure of `serve` resets the
 * stream and goes to `failed`. Resolves with the function that removes the
 * handler.
 */
export async function handleProtocol(
  node: ProtocolHost,
  protocol: string,
  caps: { init: StreamCaps; defaults: Required<StreamCaps>; failed?: OnFailed },
  serve: (stream: Stream, connection: Connection) => Promise<void>,
): Promise<() => Promise<void>> {
  const { init, defaults, failed } = caps
  const maxInboundStreams = init.maxInboundStreams ?? defaults.maxInboundStreams
  const maxOutboundStreams = init.maxOutboundStreams ?? defaults.maxOutboundStreams
  await node.handle(
    protocol,
    async (stream, connection) => {
      try {
        await serve(stream, connection)
      } catch (err) {
        abortStream(stream, err) // already reset when `serve` reset it: then this does nothing
        failed?.(asError(err), connection)
      }
    },
    { maxInboundStreams, maxOutboundStreams },
  )
  return () => node.unhandle(protocol)
}
