import { handleProtocol, type Register } from '../stream/index.js'
import { HEADS_PROTOCOL, MAX_INBOUND_STREAMS, MAX_OUTBOUND_STREAMS, TIMEOUT_MS } from './constants.js'
import { exchangeHeads, serveHeads } from './exchange.js'
import type { Heads, HeadsComponents, HeadsInit } from './index.js'

const defaults = { maxInboundStreams: MAX_INBOUND_STREAMS, maxOutboundStreams: MAX_OUTBOUND_STREAMS }

/** Registers the heads handler on `node`, with its stream caps and timeout (see HeadsInit). */
export const registerHeads: Register<HeadsComponents, HeadsInit, Heads> = async (
  node,
  components,
  init = {},
) => {
  const timeoutMs = init.timeoutMs ?? TIMEOUT_MS
  const caps = { init, defaults, failed: components.failed }
  const unregister = await handleProtocol(node, HEADS_PROTOCOL, caps, async (stream, connection) => {
    const theirs = await serveHeads(stream, () => components.heads(), { signal: init.signal, timeoutMs })
    await components.received(connection, theirs)
  })
  return {
    async exchange(connection, options = {}) {
      const ours = await components.heads()
      return exchangeHeads(connection, ours, { signal: options.signal, timeoutMs })
    },
    unregister,
  }
}
