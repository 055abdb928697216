import { apiSocketPath } from '../../daemon/http/api/wire.js'
import { spawnDaemon } from './ferry-daemon.js'

/** A running `ferry daemon` that owns a store and answers on `STORE/ferry.sock`. */
export interface TestDaemon {
  socketPath: string
  peerId: string
  /** Listen addresses, as the daemon reports them. */
  addrs: string[]
  /** Stops it (SIGTERM); the store is free again after. */
  stop(): Promise<void>
}

/**
 * Starts a real `ferry daemon` process on `storeDir` (127.0.0.1, no mDNS)
 * and resolves once it has logged that it started, so its API answers.
 */
export async function startDaemon(storeDir: string): Promise<TestDaemon> {
  const daemon = await spawnDaemon(storeDir)
  return {
    socketPath: apiSocketPath(daemon.storeDir),
    peerId: daemon.peerId,
    addrs: daemon.addrs,
    async stop() {
      if (!daemon.exited) await daemon.stop()
    },
  }
}
