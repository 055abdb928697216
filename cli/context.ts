import { connectDaemon, localOperations, type Operations, type RemoteOperations } from '../daemon/index.js'
import { defaultStoreDir, Store } from '../store/index.js'
import type { CommonOptions } from './output.js'

export function storeDir(options: CommonOptions): string {
  return options.store ?? defaultStoreDir()
}

/**
 * Runs one command's work on the store: through the daemon's API when a
 * daemon owns the store (it answers on `STORE/ferry.sock`), else on the
 * store opened here, always closed after. `daemon` is set in the first case.
 */
export async function withOperations<T>(
  options: CommonOptions,
  fn: (ops: Operations, daemon: RemoteOperations | undefined) => Promise<T>,
): Promise<T> {
  const daemon = await connectDaemon(storeDir(options))
  if (daemon !== undefined) {
    try {
      return await fn(daemon, daemon)
    } finally {
      daemon.close()
    }
  }
  const store = await Store.open(storeDir(options))
  try {
    return await fn(localOperations(store), undefined)
  } finally {
    await store.close()
  }
}
