import type { Connection, Libp2p } from '@libp2p/interface'
import { type Provider, requestBlocks } from '../../protocols/sync/index.js'
import { FerryError } from '../../store/index.js'

/**
 * A Provider (protocols/sync) over whatever connection to `peer` is open,
 * dialling it again when none is. `onDrop` hears when a fetch leaves it out.
 */
export function peerProvider(node: Libp2p, peer: string, onDrop: Provider['drop']): Provider {
  const findConnection = async (): Promise<Connection> => {
    const open = node.getConnections().find((c) => c.remotePeer.toString() === peer && c.status === 'open')
    if (open !== undefined) return open
    const known = node.getPeers().find((p) => p.toString() === peer)
    if (known === undefined) throw new FerryError('ERR_PEER', `peer ${peer} is not connected`)
    return node.dial(known)
  }
  return {
    id: peer,
    request: async (cids, onFrame, options) => requestBlocks(await findConnection(), cids, onFrame, options),
    drop: onDrop,
  }
}

/** Closes every connection to `peer` (it is dialled again by whoever keeps it connected). */
export function hangUp(node: Libp2p, peer: string): void {
  for (const connection of node.getConnections()) {
    if (connection.remotePeer.toString() === peer) void connection.close().catch(() => {})
  }
}
