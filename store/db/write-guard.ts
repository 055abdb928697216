import { readdir, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { FerryError } from '../errors.js'
import { systemCode, systemError } from '../system-error.js'
import type { RootDb } from './db.js'

/** Free bytes wanted beyond the write-ahead logs before the index is reopened. */
const HEADROOM = 1024 * 1024

/** Something that opens again after its parent reopened (the index's sublevels). */
interface Reopenable {
  open(): Promise<void>
}

/**
 * Guards every write of the index (`put`, `del`, `batch` of the root, which
 * its sublevels' writes go through). A write LevelDB could not make (a full
 * disk) may leave a torn record in its write-ahead log, and LevelDB drops
 * whatever follows such a record when it next opens: a later write that
 * "succeeded" would be lost at the next restart. So after a failed write the
 * index is reopened before the next one (the reopen replays the log up to the
 * torn record and starts a fresh log), once the disk has room for it; until
 * then writes fail with ERR_NO_SPACE and reads go on. This is what lets a
 * daemon carry on by itself once space returns. Errors name the index.
 */
export function guardWrites(root: RootDb, sublevels: Reopenable[], location: string): void {
  let broken = false
  let healing: Promise<void> | undefined
  const subject = `the store index ${location}`

  const heal = async (): Promise<void> => {
    await ensureRoom(location, subject)
    if (root.status === 'open') await root.close()
    await root.open()
    for (const sublevel of sublevels) await sublevel.open()
    broken = false
  }

  const guard = async <T>(write: () => Promise<T>): Promise<T> => {
    if (broken) {
      healing ??= heal().finally(() => {
        healing = undefined
      })
      try {
        await healing
      } catch (err) {
        throw systemError(err, subject)
      }
    }
    try {
      return await write()
    } catch (err) {
      if (!isSystemFailure(err)) throw err
      broken = true
      throw systemError(err, subject)
    }
  }

  const put = root.put.bind(root)
  const del = root.del.bind(root)
  const batch = root.batch.bind(root)
  root.put = ((...args: Parameters<typeof put>) => guard(() => put(...args))) as typeof root.put
  root.del = ((...args: Parameters<typeof del>) => guard(() => del(...args))) as typeof root.del
  root.batch = ((...args: unknown[]) =>
    args.length === 0
      ? batch() // a chained batch: its write() goes to the native batch (not used by the store)
      : guard(() => (batch as (...a: unknown[]) => Promise<void>)(...args))) as typeof root.batch
}

/** A write that failed on the disk (not a bad argument, not ferry's own refusal). */
function isSystemFailure(err: unknown): boolean {
  if (err instanceof FerryError) return false
  return (err as { code?: unknown }).code === 'LEVEL_IO_ERROR' || systemCode(err) !== undefined
}

/** Throws ENOSPC when the disk of the index has less free space than its logs need to be replayed. */
async function ensureRoom(location: string, subject: string): Promise<void> {
  let logs = 0
  for (const name of await readdir(location)) {
    if (name.endsWith('.log')) logs += (await stat(join(location, name))).size
  }
  const { bavail, bsize } = await statfs(location)
  if (bavail * bsize < logs + HEADROOM) {
    const err = Object.assign(
      new Error(`No space left on device (the index waits for ${logs + HEADROOM} bytes free)`),
      {
        code: 'ENOSPC',
      },
    )
    throw systemError(err, subject)
  }
}
