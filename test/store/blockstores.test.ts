import { join } from 'node:path'
import test from 'ava'
import { openStoreDb } from '../../store/db.js'
import { MemoryBlockstore } from '../../store/memory-blockstore.js'
import { PackBlockstore } from '../../store/pack-blockstore.js'
import { tempDir } from '../helpers/cli.js'
import { blockstoreCompliance } from './blockstore-compliance.js'

blockstoreCompliance(test, 'MemoryBlockstore', async () => ({
  store: new MemoryBlockstore(),
  close: async () => {},
}))

blockstoreCompliance(test, 'PackBlockstore', async () => {
  const { dir, cleanup } = await tempDir()
  const db = await openStoreDb(join(dir, 'db'), { create: true })
  // Small packs and flushes, so that rotation and several commits happen within the suite.
  const store = await PackBlockstore.open(
    { db, packDir: join(dir, 'packs') },
    { maxPackBytes: 64 * 1024, flushBytes: 4096 },
  )
  return {
    store,
    close: async () => {
      await store.close()
      await db.root.close()
      await cleanup()
    },
  }
})
