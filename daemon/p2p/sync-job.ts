import {
  DagFetch,
  type FetchComponents,
  type FetchInit,
  type FetchProgress,
  noProgress,
  type Provider,
} from '../../protocols/sync/index.js'
import { isFerryError, type SignedHead } from '../../store/index.js'
import type { SyncStatus } from '../ops/types.js'

/** The progress of no attempt (between attempts, what earlier ones received is in the totals). */
const IDLE: FetchProgress = noProgress()

/**
 * One followed head being synced: attempts (each a DagFetch) until its DAG
 * is complete here. Blocks received by an attempt stay, so the next attempt
 * (after a restart, or when a peer comes back) asks only for the rest.
 */
export class SyncJob {
  state: SyncStatus['state'] = 'waiting'
  error?: string
  errorCode?: string
  private fetch?: DagFetch
  private readonly providers = new Map<string, Provider>()
  /** Peers that sent a block not matching its CID, and why: not asked again in this sync. */
  private readonly excluded = new Map<string, string>()
  private bytesBefore = 0
  private blocksBefore = 0
  private patchedBefore = 0
  private patchedBytesBefore = 0
  private attemptStarted = Date.now()
  private readonly bytesByPeerBefore: Record<string, number> = {}

  constructor(
    readonly signed: SignedHead,
    private readonly components: FetchComponents,
    /** Settings of every attempt's fetch (not its signal: each attempt gets its own). */
    private readonly fetchInit: Omit<FetchInit, 'signal'> = {},
  ) {}

  get key(): string {
    return this.signed.cid.toString()
  }

  /**
   * A peer that has this head: used by the attempt running now, or the next. Refused (false) when
   * the peer was excluded from this sync.
   */
  addProvider(provider: Provider): boolean {
    if (this.excluded.has(provider.id)) return false
    this.providers.set(provider.id, provider)
    this.fetch?.addProvider(provider)
    return true
  }

  removeProvider(id: string): void {
    this.providers.delete(id)
  }

  /** Keeps `peer` out of this sync for good (for this head: a newer head is a new job). */
  exclude(peer: string, reason: string): void {
    this.excluded.set(peer, reason)
    this.providers.delete(peer)
  }

  /** Why `peer` was excluded from this sync, or undefined when it was not. */
  excludedFor(peer: string): string | undefined {
    return this.excluded.get(peer)
  }

  get providerCount(): number {
    return this.providers.size
  }

  /** Runs one attempt with the providers known now; resolves true when the DAG is complete here. */
  async attempt(signal: AbortSignal): Promise<boolean> {
    const fetch = new DagFetch(this.signed.head.root, this.components, { ...this.fetchInit, signal })
    this.fetch = fetch
    this.attemptStarted = Date.now()
    this.state = 'syncing'
    this.error = undefined
    this.errorCode = undefined
    for (const provider of this.providers.values()) fetch.addProvider(provider)
    try {
      await fetch.result()
      this.state = 'complete'
      return true
    } catch (err) {
      this.state = 'waiting'
      this.error = (err as Error).message
      this.errorCode = isFerryError(err) ? err.code : undefined
      return false
    } finally {
      const progress = fetch.status()
      this.bytesBefore += progress.bytes
      this.blocksBefore += progress.blocks
      this.patchedBefore += progress.patched
      this.patchedBytesBefore += progress.patchedBytes
      for (const [peer, bytes] of Object.entries(progress.bytesByPeer))
        this.bytesByPeerBefore[peer] = (this.bytesByPeerBefore[peer] ?? 0) + bytes
      this.fetch = undefined
    }
  }

  /** Stops the running attempt gracefully (in-flight batches land and become durable). */
  async stop(): Promise<void> {
    await this.fetch?.stop()
  }

  snapshot(): SyncStatus {
    const live = this.fetch?.status() ?? IDLE
    const seconds = Math.max(0.001, (Date.now() - this.attemptStarted) / 1000)
    const { head } = this.signed
    return {
      name: head.name,
      version: head.version,
      seq: head.seq,
      root: head.root.toString(),
      state: this.state,
      haveBlocks: this.blocksBefore + live.blocks,
      wantBlocks: this.state === 'complete' ? 0 : Math.max(0, live.discovered - live.blocks),
      bytesReceived: this.bytesBefore + live.bytes,
      patchedBlocks: this.patchedBefore + live.patched,
      patchedBytes: this.patchedBytesBefore + live.patchedBytes,
      rate: this.fetch === undefined ? 0 : Math.round(live.bytes / seconds),
      peers: this.fetch === undefined ? [...this.providers.keys()] : live.providers,
      bytesByPeer: sumByPeer(this.bytesByPeerBefore, live.bytesByPeer),
      ...(this.error === undefined ? {} : { error: this.error }),
      ...(this.errorCode === undefined ? {} : { errorCode: this.errorCode }),
    }
  }
}

function sumByPeer(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a }
  for (const [peer, bytes] of Object.entries(b)) out[peer] = (out[peer] ?? 0) + bytes
  return out
}
