import { blockKey } from '../blocks/block-key.js'
import type { AbortOptions } from '../blocks/blockstore.js'
import { parseCid } from '../blocks/cid.js'
import { markPendingImports, missingParts } from '../car/pending.js'
import { walkIndex } from '../dag/walk.js'
import { type BatchOp, delOp, writeBatch } from '../db/batch.js'
import type { Store } from '../store.js'

/** Index entries dropped per batch. */
const BATCH_KEYS = 10_000

export interface GcResult {
  blocksRemoved: number
  bytesRemoved: number
  packsRewritten: number
  bytesFreed: number
  /** Unfinished split imports whose blocks were kept (their heads wait for more parts); absent when none. */
  pendingImports?: Array<{ heads: string[]; missingParts: number[] }>
  /** Unfinished split imports dropped, since newer heads replaced theirs; absent when none. */
  droppedImports?: Array<{ heads: string[]; missingParts: number[] }>
}

/**
 * Drops every block not reachable from a head (or brought by the parts of an
 * unfinished split import: they wait for the other parts), forgets completeness marks of
 * dropped nodes, then rewrites packs that became sparse. The mark set holds
 * one key per reachable block.
 */
export async function gc(
  store: Store,
  options: AbortOptions & { minLiveRatio?: number } = {},
): Promise<GcResult> {
  const reachable = new Set<string>()
  for (const head of await store.heads()) {
    await walkIndex(store.blocks, parseCid(head.cid), reachable, () => true, options)
  }
  const { kept, dropped } = await markPendingImports(store, reachable, options)
  const describe = (list: typeof kept) =>
    list.map((p) => ({ heads: p.heads.map((h) => `${h.name} ${h.version}`), missingParts: missingParts(p) }))
  const result: GcResult = {
    blocksRemoved: 0,
    bytesRemoved: 0,
    packsRewritten: 0,
    bytesFreed: 0,
    ...(kept.length === 0 ? {} : { pendingImports: describe(kept) }),
    ...(dropped.length === 0 ? {} : { droppedImports: describe(dropped) }),
  }
  // Blocks leave through the blockstore, which keeps its per-pack live counts with the index.
  let unreachable: Uint8Array[] = []
  for await (const { cid, location } of store.blocks.entries(options)) {
    if (reachable.has(blockKey(cid))) continue
    unreachable.push(cid.multihash.bytes)
    result.blocksRemoved++
    result.bytesRemoved += location.length
    if (unreachable.length >= BATCH_KEYS) {
      await store.blocks.forget(unreachable, options)
      unreachable = []
    }
  }
  await store.blocks.forget(unreachable, options)
  let ops: BatchOp[] = []
  const flush = async () => {
    if (ops.length > 0) await writeBatch(store.db.root, ops)
    ops = []
  }
  for await (const key of store.db.complete.keys()) {
    if (!reachable.has(Buffer.from(key).toString('base64'))) ops.push(delOp(store.db.complete, key))
    if (ops.length >= BATCH_KEYS) await flush()
  }
  await flush()
  const compacted = await store.blocks.compact(options)
  result.packsRewritten = compacted.packsRemoved
  result.bytesFreed = compacted.bytesFreed
  return result
}
