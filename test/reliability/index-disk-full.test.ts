import { join } from 'node:path'
import test from 'ava'
import { openStoreDb } from '../../store/db/db.js'
import { isFerryError } from '../../store/index.js'
import { MiB, smallDisk } from '../helpers/small-disk.js'

/*
 * The store's index (LevelDB) on a full disk, in process: a write that fails
 * half way leaves a torn record in LevelDB's log, and LevelDB drops whatever
 * follows it when it next opens. The index must say ERR_NO_SPACE, and a
 * write that succeeds once space is back must survive a reopen.
 */

test('index: a write after one that failed for want of space survives a reopen', async (t) => {
  const disk = await smallDisk(t, 8)
  const location = join(disk.store, 'db')
  let db = await openStoreDb(location, { create: false })
  t.teardown(() => db.root.close())
  await db.meta.put('before', 1)
  // Room for a part of the next batch, not all of it: the log gets a torn record.
  await disk.fill(64 * 1024)
  const big = Array.from({ length: 64 }, (_, i) => ({
    type: 'put' as const,
    key: `big-${i}`,
    value: 'x'.repeat(8 * 1024),
  }))
  const refused = await db.meta.batch(big).then(
    () => undefined,
    (err: unknown) => err,
  )
  t.true(isFerryError(refused) && refused.code === 'ERR_NO_SPACE', `refused with ${String(refused)}`)
  t.true(String((refused as Error).message).includes(location), String(refused))

  await disk.unfill()
  await db.meta.put('after', 2)
  t.is(await db.meta.get('after'), 2)

  await db.root.close()
  db = await openStoreDb(location, { create: false })
  t.is(await db.meta.get('before'), 1)
  t.is(await db.meta.get('after'), 2, 'the write made once space was back is still there after a reopen')
  t.true((await disk.free()) > MiB)
})
