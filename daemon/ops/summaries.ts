import { entriesOf, headSummaries, type Store } from '../../store/index.js'
import type { EntrySummary, StatusSummary } from './types.js'

export { headSummaries }

/** The entries of a head (or BOM CID) as `ferry ls HEAD --json` prints them. */
export async function entrySummaries(store: Store, ref: string): Promise<EntrySummary[]> {
  const { root } = await store.resolveRoot(ref)
  const entries: EntrySummary[] = []
  for await (const e of entriesOf(store.blocks, root)) {
    entries.push({
      kind: e.kind,
      module: e.module,
      name: e.name,
      size: e.size,
      sha256: e.sha256,
      root: e.root.toString(),
    })
  }
  return entries
}

/** Live blocks, bytes and packs of the store, and its heads: `ferry status --json` without a daemon. */
export async function statusSummary(store: Store): Promise<StatusSummary> {
  const usage = await store.blocks.usage()
  const blocks = usage.reduce((sum, u) => sum + u.liveBlocks, 0)
  const bytes = usage.reduce((sum, u) => sum + u.liveBytes, 0)
  return { store: { dir: store.dir, blocks, bytes, packs: usage.length }, heads: await headSummaries(store) }
}
