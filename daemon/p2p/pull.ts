import { multiaddr } from '@multiformats/multiaddr'
import { FerryError } from '../../store/index.js'
import type { SyncStatus } from '../ops/types.js'
import { dialFailure } from './dial-failure.js'
import type { Replicator } from './replicator.js'

/** What `ferry sync` reports. */
export interface PullResult {
  peer: string
  heads: SyncStatus[]
  /** Blocks and bytes received over the network by this pull. */
  blocks: number
  bytesReceived: number
  seconds: number
}

export interface PullOptions {
  /** Only this head name; every head the peer offers that this store trusts when absent. */
  head?: string
  signal?: AbortSignal
  /** This node's cluster secret file, if it runs with one: named when the peer's secret differs. */
  secret?: string
  /** Called about every 200 ms while syncing. */
  onProgress?: (syncs: SyncStatus[]) => void
}

/**
 * One-shot pull: dials `address`, swaps heads, syncs the peer's heads (all
 * trusted ones, or the one named) and waits until each is published here or
 * has failed. A head the peer does not offer, or that this store refuses
 * (untrusted, rollback), is an error naming why.
 */
export async function pull(
  replicator: Replicator,
  address: string,
  options: PullOptions = {},
): Promise<PullResult> {
  let target: ReturnType<typeof multiaddr>
  try {
    target = multiaddr(address)
  } catch (cause) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `'${address}' is not a multiaddr (like /ip4/10.0.0.5/tcp/4040/p2p/12D3Koo…)`,
      { cause },
    )
  }
  const started = Date.now()
  let connection: Awaited<ReturnType<typeof replicator.libp2p.dial>>
  try {
    connection = await replicator.libp2p.dial(target, {
      signal: options.signal ?? AbortSignal.timeout(30_000),
    })
  } catch (cause) {
    throw await dialFailure(address, target, cause, options.secret)
  }
  const follow = options.head === undefined ? ['*'] : [options.head]
  const outcomes = await replicator.exchange(connection, follow)
  if (options.head !== undefined && outcomes.length === 0)
    throw new FerryError('ERR_NOT_FOUND', `peer ${connection.remotePeer} has no head named '${options.head}'`)
  const refused = outcomes.filter((o) => o.outcome === 'ignored')
  if (refused.length > 0 && refused.length === outcomes.length) {
    const first = refused[0]
    throw new FerryError((first.code ?? 'ERR_PEER') as never, first.reason ?? `head ${first.name} refused`)
  }
  // Only the heads of this exchange: an earlier sync of the same name is not this pull's work.
  const syncing = outcomes.filter((o) => o.outcome === 'sync')
  const cids = syncing.map((o) => o.cid)
  const roots = syncing.map((o) => o.root)
  const timer =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => options.onProgress?.(replicator.syncs().filter((s) => roots.includes(s.root))), 200)
  let heads: SyncStatus[]
  try {
    heads = cids.length === 0 ? [] : await replicator.settled(cids)
  } finally {
    if (timer !== undefined) clearInterval(timer)
  }
  const failed = heads.find((h) => h.state !== 'complete')
  if (failed !== undefined)
    throw new FerryError(
      // This store's own fault (a full disk, a refused access) is what the user must fix: say it as such.
      failed.errorCode === 'ERR_NO_SPACE' || failed.errorCode === 'ERR_PERMISSION'
        ? failed.errorCode
        : 'ERR_INCOMPLETE',
      `sync of ${failed.name} ${failed.version} did not complete: ${failed.error ?? failed.state}`,
      { details: { ...failed } },
    )
  return {
    peer: connection.remotePeer.toString(),
    heads,
    blocks: heads.reduce((sum, h) => sum + h.haveBlocks, 0),
    bytesReceived: heads.reduce((sum, h) => sum + h.bytesReceived, 0),
    seconds: (Date.now() - started) / 1000,
  }
}
