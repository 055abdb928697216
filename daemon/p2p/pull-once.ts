import { Store } from '../../store/index.js'
import { silentLogger } from '../runtime/logger.js'
import { type PullOptions, type PullResult, pull } from './pull.js'
import { startReplication } from './replication.js'

/**
 * `ferry sync` with no daemon on the store: opens it, runs a dial-only node
 * just for this pull (two attempts, short backoff), and closes everything.
 */
export async function pullOnce(
  storeDir: string,
  address: string,
  options: PullOptions & { secret?: string; peerTimeoutSeconds?: number; patches?: boolean } = {},
): Promise<PullResult> {
  const store = await Store.open(storeDir)
  try {
    const replication = await startReplication(store, {
      listen: [],
      mdns: false,
      secret: options.secret,
      follow: [],
      log: silentLogger(),
      maxAttempts: 2,
      retrySeconds: 1,
      peerTimeoutSeconds: options.peerTimeoutSeconds,
      patches: options.patches,
    })
    try {
      return await pull(replication.replicator, address, options)
    } finally {
      await replication.stop()
    }
  } finally {
    await store.close()
  }
}
