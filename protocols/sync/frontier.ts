import type { CID } from 'multiformats/cid'
import { blockKey, isIndexNode } from '../../store/index.js'
import type { AbortOptions } from './index.js'

/** Yields the blocks missing below a present node (Completeness.missing). */
export type MissingWalk = (root: CID, options?: AbortOptions) => AsyncIterable<CID>

/**
 * What is still to fetch below one root. Missing CIDs come lazily from walks
 * over nodes already present (so memory holds a batch, not the DAG); every
 * index node that arrives becomes a new walk. Round trips are therefore
 * bounded by DAG depth, and whole complete subtrees are skipped by the walk
 * in one lookup.
 */
export class Frontier {
  /** CIDs to ask again (a peer lacked them, failed, or was dropped), asked first. */
  private readonly retry: CID[] = []
  /** Present index nodes whose missing descendants are yet to be listed. */
  private readonly sources: CID[]
  private current?: AsyncIterator<CID>
  /** Keys of CIDs asked for and not yet durable here: a walk may list them again meanwhile. */
  private readonly requested = new Set<string>()
  private inFlight = 0
  private wake?: () => void
  private lock: Promise<unknown> = Promise.resolve()
  /** Every CID listed as missing so far (for progress). */
  discovered = 0

  constructor(
    root: CID,
    private readonly walk: MissingWalk,
    private readonly signal?: AbortSignal,
  ) {
    this.sources = [root]
  }

  /**
   * The next batch of at most `max` CIDs to ask for, or undefined when
   * nothing is missing and nothing is in flight. Waits while everything
   * left depends on batches in flight.
   */
  next(max: number): Promise<CID[] | undefined> {
    const run = this.lock.then(() => this.take(max))
    this.lock = run.catch(() => {})
    return run
  }

  private async take(max: number): Promise<CID[] | undefined> {
    for (;;) {
      this.signal?.throwIfAborted()
      const batch = this.retry.splice(0, max)
      while (batch.length < max) {
        if (this.current === undefined) {
          const source = this.sources.shift()
          if (source === undefined) break
          this.current = this.walk(source, { signal: this.signal })[Symbol.asyncIterator]()
        }
        const step = await this.current.next()
        if (step.done) {
          this.current = undefined
          continue
        }
        const key = blockKey(step.value)
        if (this.requested.has(key)) continue
        this.requested.add(key)
        this.discovered++
        batch.push(step.value)
        // An index node unlocks a whole subtree: send it now rather than fill the batch first.
        if (isIndexNode(step.value)) break
      }
      if (batch.length > 0) {
        this.inFlight++
        return batch
      }
      if (this.inFlight === 0) return undefined
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
  }

  /** A batch was answered (fully, or the rest handed back with `again`). */
  settle(): void {
    this.inFlight--
    this.notify()
  }

  /** An index node arrived and is stored: list what is missing below it. */
  expand(cid: CID): void {
    this.sources.unshift(cid)
    this.notify()
  }

  /** Ask for these again (from another peer, or the same one later). */
  again(cids: CID[]): void {
    this.retry.push(...cids)
    this.notify()
  }

  /** These blocks are durable: a later walk will see them present. */
  committed(cids: CID[]): void {
    for (const cid of cids) this.requested.delete(blockKey(cid))
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}
