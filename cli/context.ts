import { defaultStoreDir, Store } from '../store/index.js'
import type { CommonOptions } from './output.js'

export function storeDir(options: CommonOptions): string {
  return options.store ?? defaultStoreDir()
}

/**
 * Opens the store for one command and always closes it. (When a daemon owns
 * the store, commands will go through its API instead.)
 */
export async function withStore<T>(options: CommonOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(storeDir(options))
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}
