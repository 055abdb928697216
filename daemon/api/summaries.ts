import { entriesOf, parseCid, type Store } from '../../store/index.js'
import type { EntrySummary, HeadSummary, StatusSummary } from './types.js'

/** The store's heads as `ferry ls --json` prints them, sorted by name. */
export async function headSummaries(store: Store): Promise<HeadSummary[]> {
  const out: HeadSummary[] = []
  for (const head of await store.heads()) {
    out.push({
      name: head.name,
      version: head.version,
      seq: head.seq,
      root: head.root,
      publisher: head.publisher,
      complete: await store.completeness.isComplete(parseCid(head.root)),
    })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

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
