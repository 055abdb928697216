/*
 * The byte-delta baselines of the delta benchmark, each the size of what
 * would travel: `zstd --patch-from` and `xdelta3` patches, and the bytes of
 * the content-defined chunks of the new file that the old one lacks (ferry's
 * own chunker, so exactly the chunks its store would hold).
 */

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { execFileAsync, fileSize } from './archive-common.js'
import { chunkDigests } from './ingest.js'

/** sha256 of a file's bytes, hex. */
async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

/** Fails unless `decoded` holds exactly the bytes of `expected` (a patch that does not round-trip measures nothing). */
async function requireSame(decoded: string, expected: string, tool: string): Promise<void> {
  if ((await fileHash(decoded)) !== (await fileHash(expected))) {
    throw new Error(`${tool}: the patch does not decode to ${expected}`)
  }
}

/** zstd's smallest long-distance window for the benchmark (128 MiB), and its largest (2 GiB). */
const MIN_WINDOW_LOG = 27
const MAX_WINDOW_LOG = 31

/** xdelta3's default source window, the least the benchmark gives it. */
const XDELTA_MIN_SOURCE_WINDOW = 64 * 1024 * 1024

/** What chunk dedup alone leaves to move. */
export interface NewChunks {
  /** Distinct chunks of the new file, and how many of them the old file lacks. */
  chunks: number
  newChunks: number
  /** Bytes of those new chunks (each distinct chunk once). */
  bytes: number
}

/** The chunks of `newPath` that `oldPath` lacks, cut as ferry cuts them. */
export async function newChunks(oldPath: string, newPath: string): Promise<NewChunks> {
  const before = await chunkDigests(oldPath)
  const after = await chunkDigests(newPath)
  let newCount = 0
  let bytes = 0
  for (const [hash, size] of after) {
    if (before.has(hash)) continue
    newCount++
    bytes += size
  }
  return { chunks: after.size, newChunks: newCount, bytes }
}

/** A window log that covers both files (zstd --patch-from needs the reference inside its window). */
export async function windowLog(oldPath: string, newPath: string): Promise<number> {
  const total = (await stat(oldPath)).size + (await stat(newPath)).size
  return Math.min(MAX_WINDOW_LOG, Math.max(MIN_WINDOW_LOG, Math.ceil(Math.log2(total + 1))))
}

/** `zstd -19 --long=W --patch-from=OLD NEW -o PATCH`, checked by decoding it: the patch's size and the window used. */
export async function zstdPatch(
  oldPath: string,
  newPath: string,
  patch: string,
): Promise<{ bytes: number; windowLog: number }> {
  const log = await windowLog(oldPath, newPath)
  const window = [`--long=${log}`, `--patch-from=${oldPath}`]
  await execFileAsync('zstd', ['-q', '-f', '-19', ...window, newPath, '-o', patch])
  const decoded = `${patch}.decoded`
  await execFileAsync('zstd', ['-q', '-d', '-f', ...window, patch, '-o', decoded])
  await requireSame(decoded, newPath, 'zstd')
  await rm(decoded)
  return { bytes: await fileSize(patch), windowLog: log }
}

/**
 * `xdelta3 -9 -e -B SIZE -s OLD NEW PATCH`, checked by decoding it: the patch's size. The source
 * window (-B, 64 MiB by default) is raised to cover the whole old file.
 */
export async function xdelta3Patch(oldPath: string, newPath: string, patch: string): Promise<number> {
  const sourceWindow = Math.max(
    XDELTA_MIN_SOURCE_WINDOW,
    2 ** Math.ceil(Math.log2((await stat(oldPath)).size + 1)),
  )
  const source = ['-B', String(sourceWindow), '-s', oldPath]
  await execFileAsync('xdelta3', ['-f', '-9', '-e', ...source, newPath, patch])
  const decoded = `${patch}.decoded`
  await execFileAsync('xdelta3', ['-f', '-d', ...source, patch, decoded])
  await requireSame(decoded, newPath, 'xdelta3')
  await rm(decoded)
  return fileSize(patch)
}
