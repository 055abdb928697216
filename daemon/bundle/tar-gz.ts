import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import tar from 'tar-stream'
import type { BundleEntry } from './entries.js'

/** The file written: its size and sha256 (hex) as they went to disk. */
export interface WrittenFile {
  path: string
  size: number
  sha256: string
}

/** Every entry gets this time, and root as owner: the same installation makes the same bytes. */
const MTIME = new Date(0)

async function add(pack: tar.Pack, entry: BundleEntry): Promise<void> {
  const header = { name: entry.name, mode: entry.mode, mtime: MTIME, uid: 0, gid: 0 }
  if (entry.type === 'directory') {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ ...header, type: 'directory' }, (err) => (err ? reject(err) : resolve())),
    )
  } else if (entry.type === 'symlink') {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ ...header, type: 'symlink', linkname: entry.linkname }, (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  } else if ('bytes' in entry) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ ...header, type: 'file' }, Buffer.from(entry.bytes), (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  } else {
    // A file whose size changed since it was listed makes tar-stream fail the entry: no bundle then.
    await pipeline(createReadStream(entry.source), pack.entry({ ...header, type: 'file', size: entry.size }))
  }
}

/**
 * Streams `entries` as a gzip-compressed tar into `path`: through
 * `PATH.partial`, fsynced, then renamed, so `path` is either whole or absent.
 * The tar is read from the disk as it is compressed: memory stays small
 * whatever the size of the files.
 */
export async function writeTarGz(path: string, entries: BundleEntry[]): Promise<WrittenFile> {
  const partial = `${path}.partial`
  const hash = createHash('sha256')
  let size = 0
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      size += chunk.byteLength
      callback(null, chunk)
    },
  })
  const pack = tar.pack()
  try {
    const written = pipeline(
      pack,
      createGzip({ level: 6 }),
      measure,
      createWriteStream(partial, { mode: 0o644 }),
    )
    const filled = (async () => {
      for (const entry of entries) await add(pack, entry)
      pack.finalize()
    })()
    filled.catch((err) => pack.destroy(err))
    await Promise.all([written, filled])
    const handle = await open(partial, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(partial, path)
  } catch (err) {
    await rm(partial, { force: true })
    throw err
  }
  return { path, size, sha256: hash.digest('hex') }
}
