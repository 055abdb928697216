import type { FileHandle } from 'node:fs/promises'
import type { StoreDb } from '../db/db.js'
import type { PackAppender } from './appender.js'
import type { Committer } from './commit.js'
import { scanPack } from './format.js'
import type { Appended, Placed } from './index-change.js'
import { keyId } from './key-id.js'
import { type PackFiles, packKey } from './pack-files.js'

/** What recovery works with. */
export interface RecoverParts {
  db: StoreDb
  files: PackFiles
  appender: PackAppender
  committer: Committer
}

/**
 * Opens the packs of a store. Whole records past a pack's committed end
 * (appended, and the process killed before their index batch) are verified
 * against their CIDs and taken back into the index; the bytes after them (a
 * torn record, or blocks the index already has) are cut off. A pack no batch
 * ever referenced that holds nothing new is removed. Returns the blocks and
 * bytes taken back.
 */
export async function recover(parts: RecoverParts): Promise<{ blocks: number; bytes: number }> {
  const { db, files, appender, committer } = parts
  const recovered: Appended[] = []
  const seen = new Set<string>()
  for (const pack of await files.list()) {
    const committed = await db.packs.get(packKey(pack))
    const handle = await files.open(pack)
    const { size } = await handle.stat()
    let end = committed ?? 0
    let taken = 0
    if (size > end) {
      const tail = await recoverTail(db, handle, pack, end, seen)
      for (const record of tail.records) recovered.push(record)
      taken = tail.records.length
      end = tail.end
    }
    if (committed === undefined && taken === 0) {
      // No index batch ever referenced this pack, and it holds nothing the index lacks.
      await files.remove(pack)
      continue
    }
    if (size > end) {
      await handle.truncate(end)
      await handle.sync()
    }
    // A pack shorter than committed lost data (verify reports the blocks).
    appender.adopt(pack, end, { dirty: taken > 0, sealed: size < end })
  }
  if (recovered.length > 0) await committer.commit({ added: recovered })
  await appender.ready()
  return {
    blocks: recovered.length,
    bytes: recovered.reduce((sum, { location }) => sum + location.length, 0),
  }
}

/**
 * The sound records of a pack from `from` on that the index lacks (and `seen`
 * has not met in an earlier tail), and the end of the last of them (`from`
 * when there is none): what a restart keeps of a tail never committed.
 */
async function recoverTail(
  db: StoreDb,
  handle: FileHandle,
  pack: number,
  from: number,
  seen: Set<string>,
): Promise<{ records: Appended[]; end: number }> {
  const scanned: Placed[] = []
  for await (const { cid, location } of scanPack(handle, pack, from)) {
    scanned.push({ key: cid.multihash.bytes, location })
  }
  const present = scanned.length === 0 ? [] : await db.blocks.hasMany(scanned.map(({ key }) => key))
  const records: Appended[] = []
  let end = from
  for (let i = 0; i < scanned.length; i++) {
    const id = keyId(scanned[i].key)
    if (present[i] || seen.has(id)) continue
    seen.add(id)
    records.push({ ...scanned[i], unchecked: false })
    end = scanned[i].location.offset + scanned[i].location.length
  }
  return { records, end }
}
