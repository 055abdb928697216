import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { HEADS_PROTOCOL, type Heads, type ReceivedHeads, registerHeads } from '../../protocols/heads/index.js'
import { type FetchComponents, registerSync, type Sync } from '../../protocols/sync/index.js'
import { FerryError, isFerryError, type SignedHead, type Store } from '../../store/index.js'
import type { SyncStatus } from '../ops/types.js'
import type { Logger } from '../runtime/logger.js'
import { packBlockReader } from './block-reader.js'
import { coalesce } from './coalesce.js'
import { storeFetchComponents } from './fetch-components.js'
import { type HeadOutcome, judgeHead } from './head-offers.js'
import { storePatchAnswers } from './patch-answers.js'
import { hangUp, peerProvider } from './peer-provider.js'
import { SyncJob } from './sync-job.js'

/** Keeps gc from running while a sync holds blocks no head reaches yet (the API's StoreGate). */
export interface SharedGate {
  shared<T>(fn: () => Promise<T>): Promise<T>
}

export interface ReplicatorInit {
  /** Syncs and block serving hold this shared; gc takes it exclusive. */
  gate?: SharedGate
  /** Head names to follow; '*' follows every trusted head. */
  follow: string[]
  log: Logger
  /**
   * Received blocks are made durable (fsync, index batch) every this many bytes: what a power
   * loss can cost again. (A killed process costs less: the store takes back on open every whole
   * block appended after the last commit.) 4 MiB syncs faster than 2
   * (bench/history/source-notes-p2p.md).
   * @default 4 MiB
   */
  flushBytes?: number
  /**
   * Seconds to wait before retrying a sync that no peer could finish (times the attempt number, at most a minute).
   * @default 5
   */
  retrySeconds?: number
  /**
   * Attempts at one head before waiting for it to be announced again.
   * @default 20
   */
  maxAttempts?: number
  /**
   * Seconds a peer may send nothing while a reply of its is awaited (FetchInit.peerTimeoutMs); also
   * how long a peer that opened a heads or sync stream has to send its message.
   * @default 30 (the protocols' own 10 for streams peers open)
   */
  peerTimeoutSeconds?: number
  /**
   * Sync with patches (/ferry/sync/1.1.0): ask peers for changed blocks as patches against the
   * releases held here, and make them for peers that ask. False speaks 1.0.0 only (blocks).
   * @default true
   */
  patches?: boolean
  /**
   * zstd level of the patches made for peers.
   * @default 3
   */
  deltaLevel?: number
}

export type { HeadOutcome }

/**
 * Keeps the store in step with its peers: swaps signed heads on every
 * connection and every change, accepts heads of followed names from trusted
 * publishers (rollback refused as for archives), syncs their DAGs from every
 * peer that has them, and publishes them once complete. Also serves blocks
 * and heads to peers.
 */
export class Replicator {
  private readonly jobs = new Map<string, SyncJob>()
  private readonly running = new Map<string, Promise<void>>()
  private readonly controller = new AbortController()
  /** Set by stop(): an attempt that ends now is not retried. */
  private stopping = false
  private readonly components: FetchComponents
  /** Peer timeout in ms, when configured. */
  private readonly peerTimeoutMs?: number
  private heads?: Heads
  private sync?: Sync
  private readonly onHeads = () => void this.announce()
  private readonly onIdentify = (
    event: CustomEvent<{ peerId: PeerId; protocols: string[]; connection: Connection }>,
  ) => {
    if (event.detail.protocols.includes(HEADS_PROTOCOL)) void this.exchange(event.detail.connection)
  }

  constructor(
    private readonly store: Store,
    private readonly node: Libp2p,
    private readonly init: ReplicatorInit,
  ) {
    this.peerTimeoutMs = init.peerTimeoutSeconds === undefined ? undefined : init.peerTimeoutSeconds * 1000
    this.components = storeFetchComponents(store, init.flushBytes ?? 4 * 1024 * 1024, init.patches !== false)
  }

  /** Registers the heads and sync protocols (with their caps and timeouts) and starts following. */
  async start(): Promise<void> {
    const { log } = this.init
    const failed = (what: string) => (err: Error, connection: Connection) =>
      log.debug({ peer: connection.remotePeer.toString(), err: err.message }, what)
    const init = { timeoutMs: this.peerTimeoutMs, signal: this.controller.signal }
    const reader = packBlockReader(this.store.blocks)
    const guard = <T>(answer: () => Promise<T>) => this.shared(answer)
    const patches =
      this.init.patches === false ? undefined : storePatchAnswers(this.store, { level: this.init.deltaLevel })
    this.sync = await registerSync(
      this.node,
      { reader, guard, patches, failed: failed('sync stream failed') },
      { ...init, patches: this.init.patches !== false },
    )
    const heads = () => this.ourHeads()
    const received = async (connection: Connection, theirs: ReceivedHeads) => {
      await this.consider(connection, theirs.heads, theirs.rejected)
    }
    this.heads = await registerHeads(
      this.node,
      { heads, received, failed: failed('heads stream failed') },
      init,
    )
    this.node.addEventListener('peer:identify', this.onIdentify as never)
    this.store.events.on('heads', this.onHeads)
  }

  /** Stops every sync gracefully: batches in flight land and are made durable. */
  async stop(): Promise<void> {
    this.stopping = true
    this.store.events.off('heads', this.onHeads)
    this.node.removeEventListener('peer:identify', this.onIdentify as never)
    await Promise.all([this.heads?.unregister(), this.sync?.unregister()])
    await Promise.all([...this.jobs.values()].map((job) => job.stop()))
    this.controller.abort()
    await Promise.allSettled(this.running.values())
  }

  /** The sync of the latest head of each name and publisher this node followed, running or done. */
  syncs(): SyncStatus[] {
    return [...this.jobs.values()].map((job) => job.snapshot())
  }

  /**
   * Swaps heads with the peer on `connection`, then syncs what it has that
   * we follow (or the names in `follow`, for a one-shot pull). Returns what
   * became of each head the peer offered.
   */
  async exchange(connection: Connection, follow?: string[]): Promise<HeadOutcome[]> {
    try {
      if (this.heads === undefined) throw new FerryError('ERR_INTERNAL', 'the replicator is not started')
      const theirs = await this.heads.exchange(connection, { signal: this.controller.signal })
      return await this.consider(connection, theirs.heads, theirs.rejected, follow)
    } catch (err) {
      this.init.log.debug(
        { peer: connection.remotePeer.toString(), err: (err as Error).message },
        'heads exchange failed',
      )
      if (follow !== undefined) throw err
      return []
    }
  }

  /**
   * Sends our heads to every connected peer (after a change here). Announces do not overlap: changes
   * during one are sent by one more after it, so a burst of changes costs each peer two exchanges,
   * not one each (peers cap the exchanges open at once).
   */
  readonly announce = coalesce(
    async () => {
      const byPeer = new Map<string, Connection>()
      for (const connection of this.node.getConnections())
        byPeer.set(connection.remotePeer.toString(), connection)
      await Promise.all([...byPeer.values()].map((connection) => this.exchange(connection)))
    },
    () => this.stopping,
  )

  /** The node this replicator runs on. */
  get libp2p(): Libp2p {
    return this.node
  }

  /** Waits for the syncs of these heads (by head CID) to settle; every sync when none given. */
  async settled(heads?: string[]): Promise<SyncStatus[]> {
    // The named heads' jobs are held from the start: a newer head may replace one in the map meanwhile,
    // and its caller still gets its outcome (complete, or stopped) rather than nothing.
    const named =
      heads === undefined ? undefined : [...this.jobs.entries()].filter(([key]) => heads.includes(key))
    for (let round = 0; round < 1000; round++) {
      const pending = named ?? [...this.jobs.entries()]
      const busy = pending.map(([key]) => this.running.get(key)).filter((p) => p !== undefined)
      if (busy.length === 0) return pending.map(([, job]) => job.snapshot())
      await Promise.allSettled(busy)
    }
    throw new FerryError('ERR_ABORTED', 'syncs did not settle')
  }

  private shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.init.gate === undefined ? fn() : this.init.gate.shared(fn)
  }

  private async ourHeads(): Promise<SignedHead[]> {
    const records = await this.store.heads()
    return Promise.all(records.map((record) => this.store.signedHead(record)))
  }

  private async consider(
    connection: Connection,
    heads: SignedHead[],
    rejected: number,
    follow = this.init.follow,
  ): Promise<HeadOutcome[]> {
    const peer = connection.remotePeer.toString()
    const log = this.init.log.child({ peer })
    if (rejected > 0) log.warn({ rejected }, 'peer sent malformed heads; ignored')
    const outcomes: HeadOutcome[] = []
    for (const signed of heads) {
      const { head } = signed
      if (!follow.includes('*') && !follow.includes(head.name)) continue
      const judged = await judgeHead(this.store, signed)
      outcomes.push(judged)
      if (judged.outcome === 'sync') this.follow(signed, peer, log)
      else if (judged.outcome === 'ignored') {
        const { code, reason } = judged
        // Peers announce what they have on every exchange: an old head is normal, not an alarm.
        log[code === 'ERR_ROLLBACK' ? 'debug' : 'warn'](
          { head: head.name, seq: head.seq, code, reason },
          'head ignored',
        )
      }
    }
    return outcomes
  }

  private follow(signed: SignedHead, peer: string, log: Logger): void {
    const key = signed.cid.toString()
    let job = this.jobs.get(key)
    if (job === undefined) {
      // A newer head of the same name and publisher replaces the older one: one still syncing is
      // stopped, a complete one forgotten (admit() answers 'current' or ERR_ROLLBACK for it from
      // now on, so it is never followed again). A long-running daemon so keeps one job a name.
      for (const [otherKey, other] of this.jobs) {
        const o = other.signed.head
        if (o.name === signed.head.name && o.publisher === signed.head.publisher) {
          if (other.state !== 'complete') void other.stop()
          this.jobs.delete(otherKey)
        }
      }
      job = new SyncJob(signed, this.components, { peerTimeoutMs: this.peerTimeoutMs })
      this.jobs.set(key, job)
      log.info(
        { head: signed.head.name, version: signed.head.version, seq: signed.head.seq },
        'following head',
      )
    }
    if (job.state === 'complete') return
    const excluded = job.excludedFor(peer)
    if (excluded !== undefined) {
      // It re-offers the head on every exchange (reconnects included): say so, and leave it out.
      const { head } = signed
      log.info(
        { head: head.name, version: head.version, root: head.root.toString(), reason: excluded },
        'peer dropped earlier; not asked again for this root',
      )
      return
    }
    job.addProvider(this.provider(job, peer))
    if (!this.running.has(key)) {
      const run = this.run(job, log).finally(() => this.running.delete(key))
      this.running.set(key, run)
    }
  }

  /** Attempts until complete, or until no peer has the head (then it waits to be announced again). */
  private async run(job: SyncJob, log: Logger): Promise<void> {
    const retryMs = (this.init.retrySeconds ?? 5) * 1000
    for (let attempt = 1; attempt <= (this.init.maxAttempts ?? 20) && !this.stopping; attempt++) {
      if (job.providerCount === 0) return
      const complete = await this.shared(() => job.attempt(this.controller.signal))
      if (complete) {
        try {
          await this.shared(() => this.store.publishHeads([job.signed]))
          const s = job.snapshot()
          log.info(
            { head: s.name, version: s.version, seq: s.seq, blocks: s.haveBlocks, bytes: s.bytesReceived },
            'head synced and published',
          )
        } catch (err) {
          job.state = 'failed'
          job.error = (err as Error).message
          job.errorCode = isFerryError(err) ? err.code : undefined
          log.warn({ head: job.signed.head.name, reason: job.error }, 'synced head not published')
        }
        return
      }
      if (this.stopping || !this.jobs.has(job.key) || attempt === this.init.maxAttempts) return
      log.info({ head: job.signed.head.name, attempt, reason: job.error }, 'sync attempt ended; retrying')
      await sleep(Math.min(retryMs * attempt, 60_000), undefined, { signal: this.controller.signal }).catch(
        () => {},
      )
    }
  }

  /**
   * `peer` as a provider for `job`. Dropped by a fetch, it leaves every sync and is hung up on; one
   * that sent a corrupt block is also kept out of `job` for good (its reconnects are refused).
   */
  private provider(job: SyncJob, peer: string) {
    return peerProvider(this.node, peer, (why) => {
      this.init.log.warn(
        { peer, head: job.signed.head.name, code: why.code, reason: why.message },
        'peer dropped',
      )
      if (why.code === 'ERR_CORRUPT_BLOCK') job.exclude(peer, why.message)
      for (const other of this.jobs.values()) other.removeProvider(peer)
      hangUp(this.node, peer)
    })
  }
}
