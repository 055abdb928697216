import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import pLimit from 'p-limit'
import type { AbortOptions } from '../blocks/blockstore.js'
import { encodeBom } from '../dag/bom-dag.js'
import type { Entry, ModuleRef } from '../dag/nodes/index.js'
import { FerryError } from '../errors.js'
import { type IngestResult, ingestFile, ingestSmallFiles, SMALL_FILE_BYTES } from '../ingest/ingest.js'
import type { HeadRecord } from '../sign/heads.js'
import { signHead } from '../sign/heads.js'
import type { Store } from '../store.js'
import type { RequirementsFile } from './requirements.js'

export interface BuildOptions extends AbortOptions {
  name: string
  version: string
  /** Explicit sequence number; default: one above this publisher's current head of that name. */
  seq?: number
  allowDowngrade?: boolean
  /** Progress: bytes done of bytes total, and the entry being ingested. */
  onProgress?: (done: number, total: number, current: string) => void
}

export interface BuildResult {
  name: string
  version: string
  seq: number
  root: string
  entries: number
  bytes: number
  newBlocks: number
  newBytes: number
  head: HeadRecord
}

/** Large files ingested at once (each streams through an arena and the hashing threads). */
const LARGE_CONCURRENCY = 2

/** What `ferry bom build --json` prints. */
export type BuildSummary = Omit<BuildResult, 'head'>

interface PlannedFile {
  requirements: RequirementsFile
  index: number
  path: string
  size: number
}

/** Checks every requirement up front, so that a bad one fails the build before any byte is stored. */
async function plan(files: RequirementsFile[]): Promise<PlannedFile[]> {
  const modules = new Map<string, string>()
  const planned: PlannedFile[] = []
  for (const requirements of files) {
    const other = modules.get(requirements.module)
    if (other !== undefined) {
      throw new FerryError(
        'ERR_INVALID_REQUIREMENTS',
        `${requirements.file}: module '${requirements.module}' is also declared by ${other}`,
      )
    }
    modules.set(requirements.module, requirements.file)
    const unsupported = [
      ...requirements.files.flatMap((f, i) => (f.url !== undefined ? [`files[${i}].url`] : [])),
      ...requirements.images.map((_, i) => `images[${i}]`),
      ...requirements.packages.map((_, i) => `packages[${i}]`),
    ]
    if (unsupported.length > 0) {
      throw new FerryError(
        'ERR_UNSUPPORTED_SOURCE',
        `${requirements.file}: ${unsupported.join(', ')}: fetching is the job of 'ferry download'; 'ferry bom build' takes files with a local path only`,
        { details: { file: requirements.file, fields: unsupported } },
      )
    }
    for (const [index, file] of requirements.files.entries()) {
      const path = resolve(dirname(requirements.file), file.path!)
      const info = await stat(path).catch((cause: NodeJS.ErrnoException) => {
        throw new FerryError(
          'ERR_INVALID_REQUIREMENTS',
          `${requirements.file}: files[${index}].path: ${file.path}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`,
          { cause },
        )
      })
      if (!info.isFile()) {
        throw new FerryError(
          'ERR_INVALID_REQUIREMENTS',
          `${requirements.file}: files[${index}].path: ${file.path}: not a regular file`,
        )
      }
      planned.push({ requirements, index, path, size: info.size })
    }
  }
  return planned
}

/** The entry for an ingested file, after checking the sha256 the requirements give. */
function toEntry(
  item: PlannedFile,
  ingested: IngestResult,
  parseMode: (mode: string | undefined) => number | undefined,
): Entry {
  const requirement = item.requirements.files[item.index]
  if (requirement.sha256 !== undefined && requirement.sha256 !== ingested.sha256) {
    throw new FerryError(
      'ERR_CHECKSUM_MISMATCH',
      `${item.requirements.file}: files[${item.index}].sha256: ${requirement.path} has sha256 ${ingested.sha256}, the requirements say ${requirement.sha256}`,
      {
        details: {
          file: item.requirements.file,
          field: `files[${item.index}].sha256`,
          actual: ingested.sha256,
        },
      },
    )
  }
  const mode = parseMode(requirement.mode)
  return {
    kind: 'file',
    module: item.requirements.module,
    name: requirement.name,
    size: ingested.size,
    sha256: ingested.sha256,
    root: ingested.root,
    ...(mode === undefined ? {} : { mode }),
  }
}

/**
 * `ferry bom build`: ingests the local files that the requirements name,
 * writes the BOM, signs a head and publishes it. On any error no head changes
 * (stored blocks stay until `gc`).
 */
export async function buildBom(
  store: Store,
  requirementFiles: string[],
  options: BuildOptions,
): Promise<BuildResult> {
  if (requirementFiles.length === 0)
    throw new FerryError('ERR_INVALID_ARGUMENT', 'no requirements file given')
  // Loaded here, not at start-up: the YAML and schema libraries would slow every other command.
  const { loadRequirements, parseMode } = await import('./requirements.js')
  const files = await Promise.all(requirementFiles.map((file) => loadRequirements(file)))
  const planned = await plan(files)
  const total = planned.reduce((sum, p) => sum + p.size, 0)
  const before = store.blocks.written()
  let smallDone = 0
  const largeDone = new Map<PlannedFile, number>()
  const report = (label: string) => {
    const done = smallDone + [...largeDone.values()].reduce((sum, n) => sum + n, 0)
    options.onProgress?.(done, total, label)
  }
  // The first failure stops the other ingests; all settle before the error is reported.
  const abort = new AbortController()
  const signal = options.signal === undefined ? abort.signal : AbortSignal.any([options.signal, abort.signal])
  const stopOthers = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err) => {
      abort.abort(err)
      throw err
    })
  // One fsync and index batch for many files, not one per file: made durable below.
  const common = { signal, deferCommit: true }

  // Small files go through one stream of blocks; large ones stream a couple at a time beside it.
  const small = planned.filter((item) => item.size <= SMALL_FILE_BYTES)
  const large = planned.filter((item) => item.size > SMALL_FILE_BYTES)
  const smallWork = stopOthers(
    ingestSmallFiles(
      store.pipeline,
      small.map((item) => item.path),
      {
        ...common,
        onProgress: (bytes) => {
          smallDone = bytes
          report('small files')
        },
      },
    ).then((results) => results.map((result, i) => toEntry(small[i], result, parseMode))),
  )
  const limitLarge = pLimit(LARGE_CONCURRENCY)
  const largeWork = large.map((item) =>
    limitLarge(() => {
      signal.throwIfAborted()
      const label = `${item.requirements.module}/${item.requirements.files[item.index].name}`
      return stopOthers(
        ingestFile(store.pipeline, item.path, {
          ...common,
          onProgress: (bytes) => {
            largeDone.set(item, bytes)
            report(label)
          },
        }).then((result) => [toEntry(item, result, parseMode)]),
      )
    }),
  )
  const settled = await Promise.allSettled([smallWork, ...largeWork])
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed !== undefined) {
    // What was appended is sound: commit it (gc drops it if no head ever needs it) and release waiters.
    await store.blocks.flush().catch(() => {})
    throw abort.signal.reason ?? failed.reason
  }
  const entries = settled.flatMap((result) => (result as PromiseFulfilledResult<Entry[]>).value)
  await store.blocks.flush()
  // Every file DAG is durable now: remember each as complete, so publishing skips it in one lookup.
  await store.completeness.markMany(entries.map((entry) => entry.root))
  const modules: ModuleRef[] = files.map((f) => ({ name: f.module, version: f.version }))
  const bom = encodeBom({ name: options.name, version: options.version, modules, entries })
  for await (const _ of store.blocks.putMany(bom.blocks)) {
    // durable
  }
  const publisher = await store.publisher()
  // The seq is chosen inside the publication: concurrent builds of one name each get their own.
  const head = await store.publishNext(
    options.name,
    publisher.token,
    (current) =>
      signHead(publisher, {
        name: options.name,
        version: options.version,
        seq: options.seq ?? (current?.seq ?? 0) + 1,
        root: bom.root,
      }),
    { allowDowngrade: options.allowDowngrade },
  )
  const seq = head.seq
  const after = store.blocks.written()
  return {
    name: options.name,
    version: options.version,
    seq,
    root: (bom.root as CID).toString(),
    entries: entries.length,
    bytes: total,
    newBlocks: after.blocks - before.blocks,
    newBytes: after.bytes - before.bytes,
    head,
  }
}
