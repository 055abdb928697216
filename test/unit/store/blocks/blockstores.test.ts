import { join } from 'node:path'
import test from 'ava'
import { MemoryBlockstore } from '../../../../store/blocks/memory-blockstore.js'
import { openStoreDb } from '../../../../store/db/db.js'
import { PackBlockstore } from '../../../../store/packs/pack-blockstore.js'
import { tempDir } from '../../../helpers/cli.js'
import { blockstoreCompliance } from '../../../suites/blockstore-compliance.js'

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
