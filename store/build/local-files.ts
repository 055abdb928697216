import { realpath, stat } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import pLimit from 'p-limit'
import type { AbortOptions } from '../blocks/blockstore.js'
import type { Entry, FileEntry } from '../dag/nodes/index.js'
import { FerryError } from '../errors.js'
import { type IngestResult, ingestFile, ingestSmallFiles, SMALL_FILE_BYTES } from '../ingest/ingest.js'
import type { Store } from '../store.js'
import type { FileRequirement } from './requirements.js'

/** A `files:` item with a local `path`, and where it was written. */
export interface LocalFileItem {
  /** The module whose requirements file names it: the entry's `module`. */
  module: string
  /** That requirements file: `path` is relative to its folder. */
  file: string
  /** Where in that file, for messages: `files[2]`. */
  field: string
  requirement: FileRequirement
}

export interface LocalIngestOptions extends AbortOptions {
  /** Bytes read of all the files, of their total, and the file being read. */
  onProgress?: (done: number, total: number, current: string) => void
  /** One file is in the store (not yet durable: the caller flushes) and checked. */
  onIngested?: (item: LocalFileItem, entry: Entry) => void
}

/** Large files ingested at once (each streams through an arena and the hashing threads). */
const LARGE_CONCURRENCY = 2

interface PlannedFile {
  item: LocalFileItem
  path: string
  size: number
}

/** True when `path` is `folder` or below it. */
function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * The real path of an item's file (`real`, every symlink resolved), after
 * refusing one that a symlink leads out of the requirements file's folder:
 * a link planted beside the requirements (to /etc/shadow, a key) must not be
 * published unless the item says `follow-symlink: true`. A path written to
 * lead elsewhere (`../x`, `/srv/x`) is the author's choice and stays allowed.
 * The file is then read at `real`, so a link swapped after this check is not
 * followed.
 */
async function followed(item: LocalFileItem, real: string): Promise<string> {
  const { file, field, requirement } = item
  const written = resolve(dirname(file), requirement.path ?? '')
  if (real === written || requirement['follow-symlink'] === true) return real
  const folder = await realpath(dirname(file))
  // Only links count: the written path resolved through real folders.
  const writtenReal = resolve(folder, relative(dirname(file), written))
  if (real === writtenReal || isInside(folder, real)) return real
  throw new FerryError(
    'ERR_INVALID_REQUIREMENTS',
    `${file}: ${field}.path: ${requirement.path} is a symlink to ${real}, outside ${folder}: refused (set follow-symlink: true on this item to publish it)`,
    { details: { file, field: `${field}.path`, target: real } },
  )
}

/** Checks that every file is there and regular, before a byte is stored. */
async function plan(items: LocalFileItem[]): Promise<PlannedFile[]> {
  const planned: PlannedFile[] = []
  for (const item of items) {
    const { file, field, requirement } = item
    if (requirement.path === undefined) {
      throw new FerryError('ERR_INVALID_ARGUMENT', `${file}: ${field}: not a local file (no path)`)
    }
    const cannot = (cause: NodeJS.ErrnoException): never => {
      throw new FerryError(
        'ERR_INVALID_REQUIREMENTS',
        `${file}: ${field}.path: ${requirement.path}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`,
        { cause },
      )
    }
    const path = await followed(item, await realpath(resolve(dirname(file), requirement.path)).catch(cannot))
    const info = await stat(path).catch(cannot)
    if (!info.isFile()) {
      throw new FerryError(
        'ERR_INVALID_REQUIREMENTS',
        `${file}: ${field}.path: ${requirement.path}: not a regular file`,
      )
    }
    planned.push({ item, path, size: info.size })
  }
  return planned
}

/**
 * The entry of a `files:` item whose bytes the store holds as `artefact`
 * (its file DAG, size and whole sha256): its module and name, and its mode
 * when the requirement gives one.
 */
export function fileEntry(
  item: Pick<LocalFileItem, 'module' | 'requirement'>,
  artefact: { root: CID; size: number; sha256: string },
): FileEntry {
  const { mode } = item.requirement
  return {
    kind: 'file',
    module: item.module,
    name: item.requirement.name,
    size: artefact.size,
    sha256: artefact.sha256,
    root: artefact.root,
    ...(mode === undefined ? {} : { mode: Number.parseInt(mode, 8) }),
  }
}

/** The entry for an ingested file, after checking the sha256 the requirements give. */
function toEntry({ item }: PlannedFile, ingested: IngestResult): Entry {
  const { requirement } = item
  if (requirement.sha256 !== undefined && requirement.sha256 !== ingested.sha256) {
    throw new FerryError(
      'ERR_CHECKSUM_MISMATCH',
      `${item.file}: ${item.field}.sha256: ${requirement.path} has sha256 ${ingested.sha256}, the requirements say ${requirement.sha256}`,
      { details: { file: item.file, field: `${item.field}.sha256`, actual: ingested.sha256 } },
    )
  }
  return fileEntry(item, ingested)
}

/**
 * Ingests local files (`files:` items with a `path`) and returns their
 * entries, each checked against its `sha256` when one is given
 * (ERR_CHECKSUM_MISMATCH). Every file is checked to exist before a byte is
 * stored. Files up to 1 MiB are read whole and go through one writer; larger
 * ones stream, two at a time. Blocks are written with `deferCommit`: the
 * caller makes them durable (`store.blocks.flush()`), also after a failure.
 * The first failure stops the other ingests; all settle before it is thrown.
 */
export async function ingestLocalFiles(
  store: Store,
  items: LocalFileItem[],
  options: LocalIngestOptions = {},
): Promise<Entry[]> {
  const planned = await plan(items)
  const total = planned.reduce((sum, p) => sum + p.size, 0)
  let smallDone = 0
  const largeDone = new Map<PlannedFile, number>()
  const report = (label: string) => {
    const done = smallDone + [...largeDone.values()].reduce((sum, n) => sum + n, 0)
    options.onProgress?.(done, total, label)
  }
  const abort = new AbortController()
  const signal = options.signal === undefined ? abort.signal : AbortSignal.any([options.signal, abort.signal])
  const stopOthers = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err) => {
      abort.abort(err)
      throw err
    })
  const finish = (item: PlannedFile, result: IngestResult): Entry => {
    const entry = toEntry(item, result)
    options.onIngested?.(item.item, entry)
    return entry
  }
  // One fsync and index batch for many files, not one per file: made durable by the caller.
  const common = { signal, deferCommit: true }

  // Small files go through one stream of blocks; large ones stream a couple at a time beside it.
  const small = planned.filter((p) => p.size <= SMALL_FILE_BYTES)
  const large = planned.filter((p) => p.size > SMALL_FILE_BYTES)
  const smallWork = stopOthers(
    ingestSmallFiles(
      store.pipeline,
      small.map((p) => p.path),
      {
        ...common,
        onProgress: (bytes) => {
          smallDone = bytes
          report('small files')
        },
      },
    ).then((results) => results.map((result, i) => finish(small[i], result))),
  )
  const limitLarge = pLimit(LARGE_CONCURRENCY)
  const largeWork = large.map((p) =>
    limitLarge(() => {
      signal.throwIfAborted()
      const label = `${p.item.module}/${p.item.requirement.name}`
      return stopOthers(
        ingestFile(store.pipeline, p.path, {
          ...common,
          onProgress: (bytes) => {
            largeDone.set(p, bytes)
            report(label)
          },
        }).then((result) => [finish(p, result)]),
      )
    }),
  )
  const settled = await Promise.allSettled([smallWork, ...largeWork])
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed !== undefined) throw abort.signal.reason ?? failed.reason
  return settled.flatMap((result) => (result as PromiseFulfilledResult<Entry[]>).value)
}
