import type { Libp2p } from '@libp2p/interface'
import type { Store } from '../../store/index.js'
import type { Logger } from '../runtime/logger.js'
import { loadPeerKey } from './identity.js'
import { createNode } from './node.js'
import { Replicator, type ReplicatorInit } from './replicator.js'
import { readClusterSecret } from './secret.js'

export interface ReplicationInit extends ReplicatorInit {
  /** Multiaddrs to listen on; none for a dial-only node. */
  listen: string[]
  mdns: boolean
  /** Path of the cluster secret, if any. */
  secret?: string
  log: Logger
}

/** A started libp2p node on the store's identity, with a replicator serving and syncing on it. */
export interface Replication {
  node: Libp2p
  replicator: Replicator
  /** Stops the replicator (in-flight batches land), then the node. The store stays open. */
  stop(): Promise<void>
}

/** Starts the node and the replicator the daemon and a one-shot `ferry sync` both run. */
export async function startReplication(store: Store, init: ReplicationInit): Promise<Replication> {
  const secret = init.secret === undefined ? undefined : await readClusterSecret(init.secret)
  const node = await createNode({
    privateKey: await loadPeerKey(store.dir),
    listen: init.listen,
    mdns: init.mdns,
    secret,
  })
  const replicator = new Replicator(store, node, init)
  await replicator.start()
  return {
    node,
    replicator,
    async stop() {
      await replicator.stop()
      await node.stop()
    },
  }
}
