import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '../blocks/blockstore.js'
import type { ModuleRef } from '../dag/nodes/index.js'
import { FerryError } from '../errors.js'
import { assertHeadFields, type HeadRecord } from '../sign/heads.js'
import type { Store } from '../store.js'
import { loadRequirementFiles } from './load.js'
import { ingestLocalFiles, type LocalFileItem } from './local-files.js'
import { publishRelease } from './publish.js'
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

/** What `ferry bom build --json` prints. */
export type BuildSummary = Omit<BuildResult, 'head'>

/** The local files of `files`, after refusing what only `ferry download` fetches. */
function localItems(files: RequirementsFile[]): LocalFileItem[] {
  const items: LocalFileItem[] = []
  for (const requirements of files) {
    const fetched = [
      ...requirements.files.flatMap((f, i) => (f.url !== undefined ? [`files[${i}].url`] : [])),
      ...requirements.images.map((_, i) => `images[${i}]`),
      ...requirements.packages.map((_, i) => `packages[${i}]`),
    ]
    if (fetched.length > 0) {
      throw new FerryError(
        'ERR_UNSUPPORTED_SOURCE',
        `${requirements.file}: ${fetched.join(', ')}: 'ferry bom build' takes files with a local path only; 'ferry download' fetches urls, images and packages (and takes local paths too)`,
        { details: { file: requirements.file, fields: fetched } },
      )
    }
    for (const [index, requirement] of requirements.files.entries()) {
      items.push({
        module: requirements.module,
        file: requirements.file,
        field: `files[${index}]`,
        requirement,
      })
    }
  }
  return items
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
  // Before a byte is read: a head named `a/b` could never be `cat`.
  assertHeadFields(options)
  const files = await loadRequirementFiles(requirementFiles)
  const items = localItems(files)
  const before = store.blocks.written()
  const entries = await ingestLocalFiles(store, items, {
    signal: options.signal,
    onProgress: options.onProgress,
  }).catch(async (err) => {
    // What was appended is sound: commit it (gc drops it if no head ever needs it) and release waiters.
    await store.blocks.flush().catch(() => {})
    throw err
  })
  const modules: ModuleRef[] = files.map((f) => ({ name: f.module, version: f.version }))
  const { root, head } = await publishRelease(
    store,
    { name: options.name, version: options.version, modules, entries },
    { seq: options.seq, allowDowngrade: options.allowDowngrade },
  )
  const after = store.blocks.written()
  return {
    name: options.name,
    version: options.version,
    seq: head.seq,
    root: (root as CID).toString(),
    entries: entries.length,
    bytes: entries.reduce((sum, entry) => sum + entry.size, 0),
    newBlocks: after.blocks - before.blocks,
    newBytes: after.bytes - before.bytes,
    head,
  }
}
