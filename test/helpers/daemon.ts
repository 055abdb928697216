import { localOperations } from '../../daemon/api/operations.js'
import { startApiServer } from '../../daemon/api/server.js'
import type { DaemonStatus } from '../../daemon/api/types.js'
import { apiSocketPath } from '../../daemon/api/wire.js'
import { Store } from '../../store/index.js'

/** The peer id the in-process stand-in daemon reports. */
export const TEST_PEER_ID = 'test-daemon'

/** A daemon that owns a store and answers on `STORE/ferry.sock`. */
export interface TestDaemon {
  socketPath: string
  /** Stops it; the store is free again after. */
  stop(): Promise<void>
}

/**
 * Starts a daemon on `storeDir` and resolves once its API answers. For now
 * this is the API server in the test process over the store opened here
 * (so this process holds the store's lock), with no libp2p node: the status
 * has peer id {@link TEST_PEER_ID} and no peers or syncs. Swap the body for
 * a spawned `ferry daemon` when it exists; the tests only use this interface.
 */
export async function startDaemon(storeDir: string): Promise<TestDaemon> {
  const store = await Store.open(storeDir)
  const operations = localOperations(store)
  const status = async (): Promise<DaemonStatus> => ({
    ...(await operations.storeStatus()),
    peerId: TEST_PEER_ID,
    addrs: [],
    peers: [],
    sync: [],
  })
  try {
    const server = await startApiServer({ socketPath: apiSocketPath(store.dir), operations, status })
    return {
      socketPath: server.socketPath,
      async stop() {
        await server.close()
        await store.close()
      },
    }
  } catch (err) {
    await store.close()
    throw err
  }
}
