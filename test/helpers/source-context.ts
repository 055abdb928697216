import pLimit from 'p-limit'
import type { DownloadSettings, SourceContext } from '../../daemon/sources/index.js'
import type { Store } from '../../store/index.js'

/** What a source reported through a {@link testSourceContext}. */
export interface SourceReport {
  /** Per artefact label: how it finished, with its bytes. */
  finished: Map<string, { how: 'fetched' | 'held'; bytes: number }>
  /** Per artefact label: the highest `done` reported. */
  done: Map<string, number>
  notes: Array<{ message: string; fields?: Record<string, unknown> }>
}

/**
 * A real {@link SourceContext} over `store` for tests that call a source
 * directly: `jobs` transfers at once, progress and notes recorded in `report`.
 */
export function testSourceContext(
  store: Store,
  settings: Partial<DownloadSettings> = {},
  options: { jobs?: number; signal?: AbortSignal } = {},
): { ctx: SourceContext; report: SourceReport } {
  const report: SourceReport = { finished: new Map(), done: new Map(), notes: [] }
  const limit = pLimit(options.jobs ?? 4)
  const ctx: SourceContext = {
    store,
    settings: { platform: 'linux/amd64', ...settings },
    signal: options.signal ?? new AbortController().signal,
    limit: (fn) => limit(fn),
    progress: (label) => ({
      update: (done) => report.done.set(label, Math.max(done, report.done.get(label) ?? 0)),
      finish: (how, bytes) => report.finished.set(label, { how, bytes }),
    }),
    note: (message, fields) => report.notes.push({ message, fields }),
  }
  return { ctx, report }
}
