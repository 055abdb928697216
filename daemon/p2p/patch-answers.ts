import type { CID } from 'multiformats/cid'
import type { AbortOptions, Answer, PatchAnswers, PatchRequest } from '../../protocols/sync/index.js'
import {
  type Block,
  batchPatches,
  encodeNode,
  FileNodeCache,
  type LeafReference,
  type MakePatchOptions,
  makeBatchPatch,
  type PatchBatch,
  type PatchPool,
  planReferences,
  type Store,
} from '../../store/index.js'

export interface PatchAnswersInit {
  /**
   * zstd level of the patches made for peers: fast, since a sync waits for them.
   * @default 3
   */
  level?: number
  /** The threads that make them. @default the store's (its pipeline's patchPool) */
  pool?: PatchPool
}

/** Plans kept: one a release being synced from here, against the bases its requester holds. */
const PLANS_KEPT = 4

/**
 * Answers 1.1.0 want lists from `store`: runs of wanted blocks that changed
 * from a same-name entry of a release the requester holds (and this store
 * too) go as patches against it, made on the patch threads while the
 * blocks before them are sent; the rest go as blocks. The references of a
 * (release, bases) pair are planned once, from index nodes, and kept for the
 * want lists that follow.
 */
export function storePatchAnswers(store: Store, init: PatchAnswersInit = {}): PatchAnswers {
  const plans = new Map<string, Promise<Map<string, LeafReference>>>()
  const level = init.level ?? 3
  // The base files' index nodes, decoded once for all the patches made against them.
  const nodes = new FileNodeCache(8)

  const planFor = (request: PatchRequest, options: AbortOptions) => {
    const key = [request.root, ...request.bases].join(' ')
    let plan = plans.get(key)
    if (plan === undefined) {
      plan = (async () => {
        const held: CID[] = []
        for (const base of request.bases)
          if (await store.completeness.isComplete(base, options)) held.push(base)
        // Planning is reused by later want lists: a cancelled one must not poison it.
        return held.length === 0 ? new Map() : planReferences(store.blocks, [request.root], held, {})
      })()
      plan.catch(() => plans.delete(key))
      plans.set(key, plan)
      if (plans.size > PLANS_KEPT) plans.delete(plans.keys().next().value as string)
    }
    return plan
  }

  return {
    async *answer(want, request, reader, options = {}) {
      const references = await planFor(request, options)
      const batches = batchPatches(
        want.map((cid) => ({ cid })),
        references,
      )
      if (batches.length === 0) {
        yield* reader.readMany(want, options)
        return
      }
      const pool = init.pool ?? store.pipeline.patchPool
      const startsAt = new Map(batches.map((batch) => [batch.start, batch]))
      // Answers in order; a batch's is a promise of its patch (or its blocks when no patch pays).
      const queue: Array<Answer[] | Promise<Answer[]>> = []
      let making = 0
      let collecting: { batch: PatchBatch; replies: Array<Uint8Array | undefined> } | undefined
      let index = 0
      for await (const bytes of reader.readMany(want, options)) {
        const at = index++
        const batch = startsAt.get(at)
        if (batch !== undefined) collecting = { batch, replies: [] }
        if (collecting === undefined) {
          queue.push([bytes])
        } else {
          collecting.replies.push(bytes)
          if (at === collecting.batch.end - 1) {
            const { batch: done, replies } = collecting
            collecting = undefined
            making++
            queue.push(
              patchOrBlocks(store, want, done, replies, {
                level,
                pool,
                nodes,
                signal: options.signal,
              }).finally(() => making--),
            )
          }
        }
        // Keep the threads busy, no more: the answers ahead wait here, not in memory without bound.
        while (making >= pool.threads * 2 && queue.length > 0)
          yield* await (queue.shift() as Answer[] | Promise<Answer[]>)
      }
      while (queue.length > 0) yield* await (queue.shift() as Answer[] | Promise<Answer[]>)
    },
  }
}

/** The patch for a batch's blocks, or the blocks themselves when one is absent or the patch does not pay. */
async function patchOrBlocks(
  store: Store,
  want: CID[],
  batch: PatchBatch,
  replies: Array<Uint8Array | undefined>,
  options: MakePatchOptions,
): Promise<Answer[]> {
  if (replies.some((bytes) => bytes === undefined)) return replies
  const blocks: Block[] = replies.map((bytes, i) => ({
    cid: want[batch.start + i],
    bytes: bytes as Uint8Array,
  }))
  try {
    const patch = await makeBatchPatch(store.blocks, batch, blocks, options)
    return patch === undefined ? replies : [{ patch: encodeNode(patch).bytes, covers: blocks.length }]
  } catch {
    options.signal?.throwIfAborted()
    // A base that can't be read here (gc'd since planning): the blocks go as they are.
    return replies
  }
}
