import { join } from 'node:path'
import { cidFor, RAW } from '../../store/blocks/cid.js'
import { openStoreDb, type StoreDb } from '../../store/db/db.js'
import { PackBlockstore, type PackBlockstoreInit } from '../../store/packs/pack-blockstore.js'
import { pseudoRandom } from './cli.js'

/** A PackBlockstore on its own index at `dir` (no Store around it). */
export async function openPacks(
  dir: string,
  init: PackBlockstoreInit = {},
): Promise<{ db: StoreDb; store: PackBlockstore; close: () => Promise<void> }> {
  const db = await openStoreDb(join(dir, 'db'), { create: true })
  const store = await PackBlockstore.open({ db, packDir: join(dir, 'packs') }, init)
  return {
    db,
    store,
    close: async () => {
      await store.close()
      await db.root.close()
    },
  }
}

/** `count` raw blocks of pseudo-random bytes, the same for the same seed. */
export function blocks(count: number, seed: string, size = 10_000) {
  return Array.from({ length: count }, (_, i) => {
    const bytes = pseudoRandom(size, `${seed}-${i}`)
    return { cid: cidFor(RAW, bytes), bytes }
  })
}

/** putMany, drained. */
export async function putAll(store: PackBlockstore, list: ReturnType<typeof blocks>): Promise<void> {
  for await (const _ of store.putMany(list)) {
    // drain
  }
}
