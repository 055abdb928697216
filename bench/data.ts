import { execFile } from 'node:child_process'
import { type Cipher, createCipheriv, createHash } from 'node:crypto'
import { copyFile, type FileHandle, mkdir, open, readdir, stat } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

const MiB = 1024 * 1024
const PIECE = 4 * MiB

/**
 * A deterministic stream of pseudo-random bytes: the AES-256-CTR keystream
 * under a key derived from `seed`. Same seed, same bytes, on every machine;
 * fast enough (GiB/s) not to matter next to what is measured.
 */
export class PseudoRandom {
  private readonly cipher: Cipher
  private readonly zeros = Buffer.alloc(PIECE)

  constructor(seed: string) {
    const key = createHash('sha256').update(`ferry-bench/${seed}`).digest()
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  }

  /** The next `size` bytes of the stream. */
  next(size: number): Buffer {
    return this.cipher.update(size <= PIECE ? this.zeros.subarray(0, size) : Buffer.alloc(size))
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done)
    done += bytesWritten
  }
}

/** Writes `size` pseudo-random bytes (seeded) to `path`, streaming. */
export async function writePseudoRandomFile(path: string, size: number, seed: string): Promise<void> {
  const random = new PseudoRandom(seed)
  const handle = await open(path, 'w')
  try {
    for (let offset = 0; offset < size; offset += PIECE) {
      await writeAll(handle, random.next(Math.min(PIECE, size - offset)))
    }
  } finally {
    await handle.close()
  }
}

/** Offsets (in the original) of `count` insertions spread evenly over `size` bytes: the middle of each tenth, etc. */
export function evenOffsets(size: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * size) / count))
}

/**
 * Writes a pseudo-random file of `size` bytes to `original`, and to `edited`
 * the same bytes with `insertBytes` pseudo-random bytes inserted before each
 * of `offsets` (ascending, in the original's coordinates).
 */
export async function writeEditedPair(
  original: string,
  edited: string,
  size: number,
  offsets: number[],
  insertBytes: number,
  seed: string,
): Promise<void> {
  const random = new PseudoRandom(seed)
  const inserts = new PseudoRandom(`${seed}/insertions`)
  const a = await open(original, 'w')
  const b = await open(edited, 'w')
  try {
    let next = 0
    for (let offset = 0; offset < size; offset += PIECE) {
      const piece = random.next(Math.min(PIECE, size - offset))
      await writeAll(a, piece)
      let from = 0
      while (next < offsets.length && offsets[next] < offset + piece.byteLength) {
        const at = offsets[next] - offset
        await writeAll(b, piece.subarray(from, at))
        await writeAll(b, inserts.next(insertBytes))
        from = at
        next++
      }
      await writeAll(b, piece.subarray(from))
    }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

/** A file of a data set: its name inside the release and where it is on disk. */
export interface DataFile {
  /** Relative path inside the release (and inside the data set's folder). */
  name: string
  /** Absolute path. */
  path: string
  size: number
}

/** Regular files (no symlinks) below `roots`, with their sizes. */
async function listRegularFiles(roots: string[]): Promise<Array<{ path: string; size: number }>> {
  const paths: string[] = []
  for (const root of roots) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true })
    for (const entry of entries) if (entry.isFile()) paths.push(join(entry.parentPath, entry.name))
  }
  const files: Array<{ path: string; size: number }> = []
  for (let i = 0; i < paths.length; i += 256) {
    const slice = paths.slice(i, i + 256)
    files.push(...(await Promise.all(slice.map(async (path) => ({ path, size: (await stat(path)).size })))))
  }
  return files
}

/** Paths of the regular files below `dir` (to settle a store's files, for example). */
export async function regularFilesBelow(dir: string): Promise<string[]> {
  return (await listRegularFiles([dir])).map((file) => file.path)
}

/**
 * Copies real files from `roots` into `dir` (keeping their paths below `/`)
 * until they total at least `targetBytes`. Files are taken in a fixed
 * pseudo-random order (by sha256 of the path), so the sample mirrors the
 * machine's real mix of sizes and is the same on machines with the same files.
 * Skipped: files over `maxFileBytes`, and names a release cannot hold (with `\`).
 */
export async function copyRealFiles(
  roots: string[],
  dir: string,
  targetBytes: number,
  maxFileBytes: number,
): Promise<DataFile[]> {
  const order = (path: string) => createHash('sha256').update(path).digest('hex')
  const candidates = (await listRegularFiles(roots))
    .filter((file) => file.size <= maxFileBytes && !file.path.includes('\\'))
    .map((file) => ({ ...file, key: order(file.path) }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
  const chosen: DataFile[] = []
  let total = 0
  for (const file of candidates) {
    if (total >= targetBytes) break
    const name = relative('/', file.path)
    const path = join(dir, name)
    await mkdir(dirname(path), { recursive: true })
    await copyFile(file.path, path)
    chosen.push({ name, path, size: file.size })
    total += file.size
  }
  return chosen
}

/**
 * Prepares files for measuring: writes all dirty pages out (`sync`), so that
 * no write-back of the data set competes with the measured runs for the disk,
 * then reads every file once, so that the runs start from a warm page cache.
 */
export async function settle(paths: string[]): Promise<void> {
  await execFileAsync('sync')
  const buffer = Buffer.alloc(PIECE)
  for (const path of paths) {
    const handle = await open(path, 'r')
    try {
      while ((await handle.read(buffer, 0, PIECE, null)).bytesRead > 0) {
        // discard
      }
    } finally {
      await handle.close()
    }
  }
}
