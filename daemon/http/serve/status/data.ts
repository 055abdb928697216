import type { HeadSummary } from '../../../../store/index.js'
import type { DaemonStatus } from '../../../ops/types.js'
import type { ServeContext } from '../index.js'
import type { ServedSummary } from '../served-log.js'

/** A head as the status page lists it: every head of the store, served (complete: only those are served) or not. */
export interface StatusPageHead extends HeadSummary {
  /** Bytes of all its entries; null while it is incomplete (its entries may not be here yet). */
  size: number | null
  /** How many entries it has; null while it is incomplete. */
  entries: number | null
}

/**
 * `GET /status.json` on the serving port, what the status page (`/`) shows
 * and refreshes itself from:
 * - `status`: the daemon's status, as `GET /api/status` answers it (store,
 *   heads, peers with `connected`, `sync[]` with blocks and bytes so far);
 * - `served`: what the serving port has answered (totals since the daemon
 *   started, and the latest requests, newest first);
 * - `heads`: every head of the store with its completeness, and its size and
 *   number of entries when complete (sorted by name, then version).
 */
export interface StatusPageData {
  /** ISO time the answer was made. */
  at: string
  status: DaemonStatus
  served: ServedSummary
  heads: StatusPageHead[]
}

/** Gathers {@link StatusPageData} from the daemon's status and the catalog of served heads. */
export async function statusPageData(ctx: ServeContext): Promise<StatusPageData> {
  const [status, served] = await Promise.all([ctx.status(), ctx.catalog.heads()])
  const byRoot = new Map(served.map((head) => [head.record.root, head]))
  const heads = status.heads
    .map((head): StatusPageHead => {
      const loaded = head.complete ? byRoot.get(head.root) : undefined
      return {
        name: head.name,
        version: head.version,
        seq: head.seq,
        root: head.root,
        publisher: head.publisher,
        complete: head.complete,
        size: loaded === undefined ? null : loaded.entries.reduce((sum, e) => sum + e.size, 0),
        entries: loaded === undefined ? null : loaded.entries.length,
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
  return { at: new Date().toISOString(), status, served: ctx.served.summary(), heads }
}
