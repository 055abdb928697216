import type { CID } from 'multiformats/cid'
import {
  type Arena,
  type Block,
  blockKey,
  FerryError,
  isFerryError,
  isIndexNode,
  type PatchNode,
} from '../../store/index.js'
import {
  DEFAULT_BATCH_BLOCKS,
  DEFAULT_IN_FLIGHT,
  DEFAULT_PEER_TIMEOUT_MS,
  MAX_PROVIDER_FAILURES,
  MAX_VERIFYING,
} from './constants.js'
import { Frontier } from './frontier.js'
import type { FetchComponents, FetchInit, FetchProgress, FetchResult, Provider } from './index.js'
import type { PatchRequest } from './messages.js'
import { ReceiveBuffer } from './receive-buffer.js'
import { BlockSink } from './sink.js'

/** The progress of a fetch that has received nothing yet. */
export function noProgress(): FetchProgress {
  return { blocks: 0, bytes: 0, discovered: 0, providers: [], bytesByPeer: {}, patched: 0, patchedBytes: 0 }
}

interface ProviderState {
  provider: Provider
  workers: number
  failures: number
  /** Set when the provider is dropped: why (the fetch's error names it when no provider is left). */
  droppedFor?: string
}

/**
 * Fetches every block missing below one root from any number of providers
 * at once. Each provider gets several batches in flight; every block is
 * verified against its CID before it is stored; a provider that sends a
 * block that does not match is dropped and its share asked of the others;
 * an interrupted fetch resumes from what is durable, since the frontier is
 * computed from the store.
 */
export class DagFetch {
  private readonly frontier: Frontier
  private readonly sink: BlockSink
  /** Received blocks live here from the wire until appended to a pack. */
  private readonly arena: Arena
  private readonly buffer: ReceiveBuffer
  private recycled = false
  private readonly providers = new Map<string, ProviderState>()
  private readonly controller = new AbortController()
  private readonly batchBlocks: number
  private readonly inFlight: number
  private readonly peerTimeoutMs: number
  private readonly progress: FetchProgress = noProgress()
  /** What want lists ask for patches against (asked of the store once, at the first want list). */
  private patchRequest?: Promise<PatchRequest | undefined>
  /** Providers that answered "absent" for a CID, by CID key; a CID no provider has fails the fetch. */
  private readonly absent = new Map<string, Set<string>>()
  private settled = false
  /** Set by stop(): no new batches; what is in flight is received and made durable. */
  private stopping = false
  private resolveRun!: (result: FetchResult) => void
  private rejectRun!: (err: unknown) => void
  private readonly finished: Promise<FetchResult>
  private readonly started = Date.now()

  constructor(
    readonly root: CID,
    private readonly components: FetchComponents,
    init: FetchInit = {},
  ) {
    this.batchBlocks = init.batchBlocks ?? DEFAULT_BATCH_BLOCKS
    this.inFlight = init.inFlightPerProvider ?? DEFAULT_IN_FLIGHT
    this.peerTimeoutMs = init.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS
    const signal =
      init.signal === undefined
        ? this.controller.signal
        : AbortSignal.any([init.signal, this.controller.signal])
    this.frontier = new Frontier(root, components.missing, signal)
    this.arena = components.arenas.acquire()
    this.buffer = new ReceiveBuffer(this.arena, this.controller.signal)
    this.sink = new BlockSink(
      components.writeLeaves,
      (cids) => this.frontier.committed(cids),
      (blocks) => {
        for (const block of blocks) this.buffer.release(block.bytes)
      },
    )
    this.finished = new Promise((resolve, reject) => {
      this.resolveRun = resolve
      this.rejectRun = reject
    })
    this.finished.catch(() => {})
    init.signal?.addEventListener(
      'abort',
      () => void this.fail(new FerryError('ERR_ABORTED', 'sync aborted')),
      {
        once: true,
      },
    )
  }

  /**
   * Stops gracefully: asks for nothing more, lets the batches in flight
   * arrive, makes everything received durable, then rejects with ERR_ABORTED.
   */
  stop(): Promise<void> {
    this.stopping = true
    if ([...this.providers.values()].every((p) => p.workers === 0)) void this.finish(false)
    return this.finished.then(
      () => {},
      () => {},
    )
  }

  /** Resolves when every block below the root is durable here; rejects when no provider can finish it. */
  result(): Promise<FetchResult> {
    return this.finished
  }

  /** What has been received so far. */
  status(): FetchProgress {
    return {
      ...this.progress,
      bytesByPeer: { ...this.progress.bytesByPeer },
      discovered: this.frontier.discovered,
      providers: [...this.providers.values()]
        .filter((p) => p.droppedFor === undefined)
        .map((p) => p.provider.id),
    }
  }

  /** Adds a provider (a peer that holds the root); starts its workers. Ignored when known. */
  addProvider(provider: Provider): void {
    if (this.settled || this.providers.has(provider.id)) return
    const state: ProviderState = { provider, workers: 0, failures: 0 }
    this.providers.set(provider.id, state)
    for (let i = 0; i < this.inFlight; i++) {
      state.workers++
      void this.work(state).finally(() => {
        state.workers--
        this.workerStopped()
      })
    }
  }

  private async work(state: ProviderState): Promise<void> {
    while (state.droppedFor === undefined && !this.settled && !this.stopping) {
      let batch: CID[] | undefined
      try {
        batch = await this.frontier.next(this.batchBlocks)
      } catch (err) {
        await this.fail(err)
        return
      }
      if (batch === undefined) return
      const stored = new Array<boolean>(batch.length).fill(false)
      // Verified blocks wait for room in the sink while the stream is read on, at most MAX_VERIFYING at once.
      const verifying: Array<Promise<void>> = []
      try {
        const patch = await this.patchesAgainst()
        await state.provider.request(
          batch,
          async (index, bytes, patch) => {
            const answers = patch?.targets.length ?? 1
            const received =
              patch === undefined
                ? this.receive(state, batch[index], bytes)
                : this.receivePatch(state, patch, bytes as Uint8Array)
            const landed = received.then(() => {
              stored.fill(true, index, index + answers)
            })
            landed.catch(() => {}) // awaited below
            verifying.push(landed)
            // A patch expands to up to a MiB of blocks: one at a time a stream, so they do not pile up.
            if (patch !== undefined) await Promise.all(verifying.splice(0))
            else if (verifying.length >= MAX_VERIFYING) await verifying.shift()
          },
          { signal: this.controller.signal, buffer: this.buffer, idleMs: this.peerTimeoutMs, patch },
        )
        await Promise.all(verifying)
        state.failures = 0
      } catch (err) {
        await Promise.allSettled(verifying)
        // What did not land is asked again, of this provider or (when it is dropped) of the others.
        this.frontier.again(batch.filter((_, i) => !stored[i]))
        if (isFerryError(err, 'ERR_CORRUPT_BLOCK')) this.drop(state, err)
        else if (++state.failures >= MAX_PROVIDER_FAILURES)
          this.drop(state, new FerryError('ERR_PEER', String((err as Error).message ?? err), { cause: err }))
      } finally {
        this.frontier.settle()
      }
    }
  }

  /** Verifies and stores one received block; `bytes` is a view held in the buffer, released here or once written. */
  private async receive(state: ProviderState, cid: CID, bytes: Uint8Array | undefined): Promise<void> {
    // Lacked blocks are handed to the other providers at once, so they count as handled here.
    if (bytes === undefined) return this.lacks(state, cid)
    let handedOver = false
    try {
      const matches = this.components.verify(cid, bytes)
      if (!matches) {
        throw new FerryError(
          'ERR_CORRUPT_BLOCK',
          `peer ${state.provider.id} sent block ${cid} with bytes that do not match it`,
          {
            details: { cid: cid.toString(), peer: state.provider.id },
          },
        )
      }
      // A fetch that ended meanwhile stores nothing more: its buffer may already be reused.
      if (this.settled) return
      this.progress.blocks++
      this.progress.bytes += bytes.byteLength
      const peer = state.provider.id
      this.progress.bytesByPeer[peer] = (this.progress.bytesByPeer[peer] ?? 0) + bytes.byteLength
      if (isIndexNode(cid)) {
        // Index nodes are few and kept: copied out of the buffer.
        await this.components.putIndex({ cid, bytes: bytes.slice() })
        this.frontier.expand(cid)
      } else {
        handedOver = true
        await this.sink.push({ cid, bytes })
      }
    } finally {
      if (!handedOver) this.buffer.release(bytes)
    }
  }

  /** The releases held here that patches may be made against, once per fetch; undefined for none. */
  private patchesAgainst(): Promise<PatchRequest | undefined> {
    const { patchBases, expand } = this.components
    if (patchBases === undefined || expand === undefined) return Promise.resolve(undefined)
    this.patchRequest ??= patchBases(this.root, { signal: this.controller.signal }).then((bases) =>
      bases.length === 0 ? undefined : { root: this.root, bases },
    )
    return this.patchRequest
  }

  /**
   * Expands a patch (its targets verified against their CIDs) and stores the
   * blocks; `view` is the frame's, released here. A patch that does not
   * expand to its targets is ERR_CORRUPT_BLOCK naming the peer: it is dropped.
   */
  private async receivePatch(state: ProviderState, patch: PatchNode, view: Uint8Array): Promise<void> {
    let blocks: Block[]
    const peer = state.provider.id
    try {
      blocks = await (this.components.expand as NonNullable<FetchComponents['expand']>)(patch)
    } catch (err) {
      if (!isFerryError(err, 'ERR_CORRUPT_BLOCK')) throw err
      throw new FerryError('ERR_CORRUPT_BLOCK', `peer ${peer} sent a bad patch: ${err.message}`, {
        cause: err,
        details: { ...err.details, peer },
      })
    } finally {
      this.buffer.release(view)
    }
    if (this.settled) return
    this.progress.blocks += blocks.length
    this.progress.bytes += view.byteLength
    this.progress.bytesByPeer[peer] = (this.progress.bytesByPeer[peer] ?? 0) + view.byteLength
    this.progress.patched += blocks.length
    for (const block of blocks) {
      this.progress.patchedBytes += block.bytes.byteLength
      if (isIndexNode(block.cid)) {
        await this.components.putIndex({ cid: block.cid, bytes: block.bytes.slice() })
        this.frontier.expand(block.cid)
      } else await this.sink.push(block)
    }
  }

  /** The provider has not got `cid`: ask another; with none left, the fetch can't finish. */
  private lacks(state: ProviderState, cid: CID): void {
    const key = blockKey(cid)
    const lackers = this.absent.get(key) ?? new Set<string>()
    this.absent.set(key, lackers)
    lackers.add(state.provider.id)
    const others = [...this.providers.values()].filter(
      (p) => p.droppedFor === undefined && !lackers.has(p.provider.id),
    )
    if (others.length === 0) {
      void this.fail(
        new FerryError('ERR_INCOMPLETE', `no connected peer has block ${cid} below ${this.root}`, {
          details: { cid: cid.toString(), root: this.root.toString() },
        }),
      )
      return
    }
    this.frontier.again([cid])
  }

  /** Leaves the provider out of this fetch; `why` is ERR_CORRUPT_BLOCK (it misbehaved) or ERR_PEER (it failed). */
  private drop(state: ProviderState, why: FerryError): void {
    if (state.droppedFor !== undefined) return
    state.droppedFor = why.message
    state.provider.drop?.(why)
  }

  private workerStopped(): void {
    if (this.settled) {
      this.recycle()
      return
    }
    if (this.workersRunning()) return
    // Every worker has stopped: either the frontier is exhausted (done) or every provider was dropped.
    void this.finish([...this.providers.values()].some((p) => p.droppedFor === undefined))
  }

  private async finish(exhausted: boolean): Promise<void> {
    if (this.settled) return
    try {
      await this.sink.close()
    } catch (err) {
      return this.fail(err)
    }
    if (this.stopping)
      return this.fail(new FerryError('ERR_ABORTED', `sync of ${this.root} stopped; it resumes from here`))
    if (!exhausted) {
      const dropped = Object.fromEntries([...this.providers].map(([id, p]) => [id, p.droppedFor]))
      const why = Object.entries(dropped).map(([id, reason]) => `${id}: ${reason}`)
      return this.fail(
        new FerryError(
          'ERR_INCOMPLETE',
          `every peer was dropped before ${this.root} was complete (${why.join('; ')})`,
          { details: { root: this.root.toString(), dropped } },
        ),
      )
    }
    this.settled = true
    this.recycle()
    this.resolveRun({ ...this.status(), seconds: (Date.now() - this.started) / 1000 })
  }

  private workersRunning(): boolean {
    return [...this.providers.values()].some((p) => p.workers > 0)
  }

  /**
   * Once settled and every worker has stopped (nothing is being received or
   * verified any more), gives the buffer's memory back for the next fetch.
   */
  private recycle(): void {
    if (this.recycled || this.workersRunning()) return
    this.recycled = true
    this.buffer.releaseAll()
    this.components.arenas.release(this.arena)
  }

  /** Settles with `err` once what was received is durable (so a restart does not fetch it again). */
  private async fail(err: unknown): Promise<void> {
    if (this.settled) return
    this.settled = true
    this.controller.abort()
    await this.sink.close().catch(() => {})
    this.recycle()
    this.rejectRun(err)
  }
}
