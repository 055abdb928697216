/**
 * `ferry download`: every requirements file given (or found below a folder)
 * loaded and checked, every item handed to the source that fetches it, all
 * sources at once under one `--jobs` limit; then, when everything is in the
 * store and checked, the release signed and published like `bom build`'s.
 */
import pLimit from 'p-limit'
import {
  assertHeadFields,
  type Entry,
  FerryError,
  loadRequirementFiles,
  publishRelease,
  type Store,
} from '../../store/index.js'
import { sourceCatalog } from './catalog.js'
import {
  DEFAULT_JOBS,
  DEFAULT_PLATFORM,
  type DownloadSettings,
  type Source,
  type SourceContext,
} from './index.js'
import { refuseImageTwice } from './registry/source.js'
import { assignItems, requirementFilesOf, requirementItems } from './requirement-items.js'
import { allOrNothing } from './settle.js'

/** Progress events of one artefact go out at most this often (its start and end always). */
const UPDATE_INTERVAL_MS = 100

/** What a download reports as it goes (`ferry download --json` prints one a line). */
export type DownloadEvent =
  /** Everything is loaded and checked; fetching begins. */
  | {
      type: 'start'
      /** The requirements files, absolute. */
      files: string[]
      modules: string[]
      /** Items handed to each source, by its name. */
      items: Record<string, number>
    }
  /** One artefact's progress: `done` bytes of `total` (when known), or how it `finished` with its `bytes`. */
  | {
      type: 'artefact'
      source: string
      label: string
      done: number
      total?: number
      finished?: 'fetched' | 'held'
      bytes?: number
    }
  /** A source's remark: what it resolved, a retry, why a package was pulled in. */
  | { type: 'note'; source: string; message: string; fields?: Record<string, unknown> }

/** The end of a successful download: `ferry download --json`'s last line. */
export interface DownloadSummary {
  /** The head published. */
  head: { name: string; version: string; seq: number; root: string }
  entries: number
  /** Artefacts fetched (or read, for local files) and their bytes. */
  fetched: number
  bytesFetched: number
  /** Artefacts the store held already: not fetched at all. */
  held: number
  bytesHeld: number
  seconds: number
}

export interface DownloadOptions {
  name: string
  version: string
  /** Explicit sequence number; default: one above this publisher's current head of that name. */
  seq?: number
  allowDowngrade?: boolean
  /** Transfers at once, over every source. @default 4 */
  jobs?: number
  settings?: Partial<DownloadSettings>
  signal?: AbortSignal
  onEvent?: (event: DownloadEvent) => void
  /** The sources to use. @default sourceCatalog() */
  sources?: Source[]
}

/**
 * Downloads everything the requirements files at `paths` (files, or folders
 * holding `*\/requirements.yaml`) ask for, then signs and publishes head
 * `name`. On any failure the other sources are stopped, what was fetched and
 * verified is kept (durable, not fetched again by a re-run), nothing is
 * published, and the first cause is thrown.
 */
export async function download(
  store: Store,
  paths: string[],
  options: DownloadOptions,
): Promise<DownloadSummary> {
  const started = Date.now()
  const jobs = options.jobs ?? DEFAULT_JOBS
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `--jobs must be a positive integer, not ${jobs}`)
  }
  // Before anything is fetched: a head named `a/b` would only be refused once everything is here.
  assertHeadFields(options)
  const files = await loadRequirementFiles(await requirementFilesOf(paths))
  const sources = options.sources ?? sourceCatalog()
  const items = requirementItems(files)
  refuseImageTwice(items)
  const assigned = assignItems(items, sources)
  const emit = options.onEvent ?? (() => {})
  emit({
    type: 'start',
    files: files.map((f) => f.file),
    modules: files.map((f) => f.module),
    items: Object.fromEntries([...assigned].map(([source, items]) => [source.name, items.length])),
  })

  const tally = { fetched: 0, bytesFetched: 0, held: 0, bytesHeld: 0 }
  const limit = pLimit(jobs)
  const settings: DownloadSettings = { platform: DEFAULT_PLATFORM, ...options.settings }
  const contextFor = (source: Source, signal: AbortSignal): SourceContext => ({
    store,
    settings,
    signal,
    limit: (fn) => limit(fn),
    note: (message, fields) =>
      emit({ type: 'note', source: source.name, message, ...(fields ? { fields } : {}) }),
    progress(label) {
      let sentAt = 0
      let finished = false
      return {
        update(done, total) {
          const now = Date.now()
          if (finished || (now - sentAt < UPDATE_INTERVAL_MS && done !== total && done !== 0)) return
          sentAt = now
          emit({
            type: 'artefact',
            source: source.name,
            label,
            done,
            ...(total === undefined ? {} : { total }),
          })
        },
        finish(how, bytes) {
          if (finished) return
          finished = true
          if (how === 'fetched') {
            tally.fetched++
            tally.bytesFetched += bytes
          } else {
            tally.held++
            tally.bytesHeld += bytes
          }
          emit({
            type: 'artefact',
            source: source.name,
            label,
            done: bytes,
            total: bytes,
            finished: how,
            bytes,
          })
        },
      }
    },
  })

  const stopped = (cause?: unknown) =>
    new FerryError(
      'ERR_ABORTED',
      'download stopped; nothing published, what was fetched is kept for the next run',
      {
        cause,
      },
    )
  let entries: Entry[]
  try {
    const results = await allOrNothing(
      [...assigned].map(
        ([source, items]) =>
          (signal) =>
            source.fetch(items, contextFor(source, signal)),
      ),
      options.signal,
    )
    entries = results.flat()
  } catch (err) {
    // What was appended is sound: make it durable for the next run (gc drops it if no head needs it).
    await store.blocks.flush().catch(() => {})
    throw options.signal?.aborted ? stopped(err) : err
  }
  if (options.signal?.aborted) throw stopped(options.signal.reason)
  const { root, head } = await publishRelease(
    store,
    {
      name: options.name,
      version: options.version,
      modules: files.map((f) => ({ name: f.module, version: f.version })),
      entries,
    },
    { seq: options.seq, allowDowngrade: options.allowDowngrade },
  )
  return {
    head: { name: head.name, version: head.version, seq: head.seq, root: root.toString() },
    entries: entries.length,
    ...tally,
    seconds: Math.round((Date.now() - started) / 10) / 100,
  }
}
