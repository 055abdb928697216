import { handleProtocol, type Register } from '../stream/index.js'
import {
  MAX_INBOUND_STREAMS,
  MAX_OUTBOUND_STREAMS,
  SYNC_PROTOCOL,
  SYNC_PROTOCOL_PATCHES,
  TIMEOUT_MS,
} from './constants.js'
import type { Sync, SyncComponents, SyncInit } from './index.js'
import { serveWant } from './server.js'

const defaults = { maxInboundStreams: MAX_INBOUND_STREAMS, maxOutboundStreams: MAX_OUTBOUND_STREAMS }

/**
 * Registers the sync handlers on `node` (1.0.0, and 1.1.0 unless `init.patches` is false), with
 * their stream caps and want-list timeout (see SyncInit).
 */
export const registerSync: Register<SyncComponents, SyncInit, Sync> = async (node, components, init = {}) => {
  const { signal, timeoutMs = TIMEOUT_MS } = init
  const caps = { init, defaults, failed: components.failed }
  const versions = init.patches === false ? [SYNC_PROTOCOL] : [SYNC_PROTOCOL, SYNC_PROTOCOL_PATCHES]
  const unregister = await Promise.all(
    versions.map((protocol) =>
      handleProtocol(node, protocol, caps, async (stream) => {
        await serveWant(stream, components, {
          signal,
          timeoutMs,
          patches: protocol === SYNC_PROTOCOL_PATCHES,
        })
      }),
    ),
  )
  return {
    unregister: async () => {
      await Promise.all(unregister.map((remove) => remove()))
    },
  }
}
