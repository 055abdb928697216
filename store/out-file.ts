import type { Stats } from 'node:fs'
import { lstat, open, realpath, rename, rm } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { FerryError } from './errors.js'
import { systemError } from './system-error.js'

/**
 * Where ferry may write a file a user names (`export --out`, `inventory
 * --out`): a regular file or nothing, outside the store, and only an existing
 * file with `force`. A FIFO or a device node at the path is never replaced
 * (as root, `--out /dev/sdX` would have replaced the disk's node), nor a pack
 * or the publisher key.
 */
export interface OutFileOptions {
  /** The store being read: nothing inside it may be written. */
  storeDir?: string
  /** Replace an existing regular file. */
  force?: boolean
}

/** True when `path` is `folder` or below it (both absolute). */
export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

function kind(info: Stats): string {
  if (info.isFIFO()) return 'FIFO'
  if (info.isBlockDevice()) return 'block device'
  if (info.isCharacterDevice()) return 'character device'
  if (info.isSocket()) return 'socket'
  if (info.isSymbolicLink()) return 'symlink'
  if (info.isDirectory()) return 'folder'
  return 'special file'
}

async function lstatOrNone(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw systemError(err, path)
  })
}

/** The real path of `path`'s folder joined with its name (symlinked folders resolved). */
export async function realOutPath(path: string): Promise<string> {
  const abs = resolve(path)
  const folder = await realpath(dirname(abs)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR')
      throw new FerryError('ERR_NOT_FOUND', `${path}: folder ${dirname(abs)} does not exist`, {
        details: { path },
      })
    throw systemError(err, dirname(abs))
  })
  return join(folder, basename(abs))
}

/**
 * Throws unless `path` (and its `.partial` beside it) may be written: its
 * folder exists, it is not in the store, and it is nothing or a regular file
 * (an existing one only with `force`). ERR_INVALID_ARGUMENT names the path
 * and why; ERR_NOT_FOUND a missing folder.
 */
export async function checkOutFile(path: string, options: OutFileOptions = {}): Promise<void> {
  const target = await realOutPath(path)
  if (options.storeDir !== undefined) {
    const store = await realpath(options.storeDir).catch(() => resolve(options.storeDir as string))
    if (isInside(store, target)) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${path} is inside the store ${options.storeDir}: write it elsewhere (it could replace a pack or the publisher key)`,
        { details: { path, store: options.storeDir } },
      )
    }
  }
  for (const candidate of [target, `${target}.partial`]) {
    const info = await lstatOrNone(candidate)
    if (info === undefined) continue
    if (!info.isFile()) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${candidate} is a ${kind(info)}, not a regular file: ferry writes only regular files, and does not replace this one`,
        { details: { path: candidate, kind: kind(info) } },
      )
    }
    if (candidate === target && options.force !== true) {
      throw new FerryError('ERR_INVALID_ARGUMENT', `${path} exists: --force replaces it`, {
        details: { path, exists: true },
      })
    }
  }
}

/**
 * Writes `data` to `path` after {@link checkOutFile}: to `PATH.partial`
 * (created anew, never through a link or into a FIFO), fsynced, then renamed,
 * so nothing partial is ever left at `path`. A full disk is ERR_NO_SPACE.
 */
export async function writeOutFile(
  path: string,
  data: string | Uint8Array,
  options: OutFileOptions = {},
): Promise<void> {
  await checkOutFile(path, options)
  const target = await realOutPath(path)
  const partial = `${target}.partial`
  try {
    await rm(partial, { force: true })
    const handle = await open(partial, 'wx')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(partial, target)
  } catch (err) {
    await rm(partial, { force: true }).catch(() => {})
    throw systemError(err, path)
  }
}
