import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import pLimit from 'p-limit'
import type { AbortOptions } from './blockstore.js'
import { type Entry, encodeBom, type ModuleRef } from './bom.js'
import { FerryError } from './errors.js'
import type { HeadRecord } from './heads.js'
import { signHead } from './heads.js'
import { ingestFile } from './ingest.js'
import type { RequirementsFile } from './requirements.js'
import type { Store } from './store.js'

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

/** Files ingested at once. */
const INGEST_CONCURRENCY = 2

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
  // Loaded here, not at start-up: the YAML and schema libraries cost every other command ~0.1 s.
  const { loadRequirements, parseMode } = await import('./requirements.js')
  const files = await Promise.all(requirementFiles.map((file) => loadRequirements(file)))
  const planned = await plan(files)
  const total = planned.reduce((sum, p) => sum + p.size, 0)
  const before = store.blocks.written()
  const progress = new Map<PlannedFile, number>()
  let done = 0
  const limit = pLimit(INGEST_CONCURRENCY)
  // The first failure stops the other ingests; all settle before the error is reported.
  const abort = new AbortController()
  const signal = options.signal === undefined ? abort.signal : AbortSignal.any([options.signal, abort.signal])
  const ingestOne = async (item: PlannedFile): Promise<Entry> => {
    const requirement = item.requirements.files[item.index]
    const label = `${item.requirements.module}/${requirement.name}`
    signal.throwIfAborted()
    const ingested = await ingestFile(store.pipeline, item.path, {
      signal,
      onProgress: (bytes) => {
        done += bytes - (progress.get(item) ?? 0)
        progress.set(item, bytes)
        options.onProgress?.(done, total, label)
      },
    })
    // Every block of this file DAG was just made durable: remember it as complete.
    await store.completeness.mark(ingested.root)
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
  // Files are ingested a few at a time: small files are latency-bound, large ones share the cores.
  const settled = await Promise.allSettled(
    planned.map((item) =>
      limit(() =>
        ingestOne(item).catch((err) => {
          abort.abort(err)
          throw err
        }),
      ),
    ),
  )
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed !== undefined) throw abort.signal.reason ?? failed.reason
  const entries = settled.map((result) => (result as PromiseFulfilledResult<Entry>).value)
  const modules: ModuleRef[] = files.map((f) => ({ name: f.module, version: f.version }))
  const bom = encodeBom({ name: options.name, version: options.version, modules, entries })
  for await (const _ of store.blocks.putMany(bom.blocks)) {
    // durable
  }
  const publisher = await store.publisher()
  const current = await store.currentHead(options.name, publisher.token)
  const seq = options.seq ?? (current?.seq ?? 0) + 1
  const signed = signHead(publisher, { name: options.name, version: options.version, seq, root: bom.root })
  const head = await store.publish(signed, { allowDowngrade: options.allowDowngrade })
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
