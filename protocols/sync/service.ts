import { handleProtocol, type Register } from '../stream/index.js'
import { MAX_INBOUND_STREAMS, MAX_OUTBOUND_STREAMS, SYNC_PROTOCOL, TIMEOUT_MS } from './constants.js'
import type { Sync, SyncComponents, SyncInit } from './index.js'
import { serveWant } from './server.js'

const defaults = { maxInboundStreams: MAX_INBOUND_STREAMS, maxOutboundStreams: MAX_OUTBOUND_STREAMS }

/** Registers the sync handler on `node`, with its stream caps and want-list timeout (see SyncInit). */
export const registerSync: Register<SyncComponents, SyncInit, Sync> = async (node, components, init = {}) => {
  const { signal, timeoutMs = TIMEOUT_MS } = init
  const caps = { init, defaults, failed: components.failed }
  const unregister = await handleProtocol(node, SYNC_PROTOCOL, caps, async (stream) => {
    await serveWant(stream, components, { signal, timeoutMs })
  })
  return { unregister }
}
