import type { Libp2p, PeerInfo } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../runtime/logger.js'
import { dialFailure } from './dial-failure.js'

/** Backoff between failed dials: doubling from 1 s up to 30 s. */
const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000
/** How often a connected peer is checked (a disconnect also wakes the loop at once). */
const CONNECTED_CHECK_MS = 5000

/**
 * Keeps the configured peers connected: dials each, backs off while it is
 * unreachable, and dials again as soon as a connection drops. Also dials
 * the peers that discovery (mDNS) reports.
 */
export class PeerDialer {
  private readonly controller = new AbortController()
  private readonly loops: Array<Promise<void>> = []
  private readonly wakers = new Set<() => void>()
  private readonly onDisconnect = () => {
    for (const wake of this.wakers) wake()
  }
  /** Peer IDs learnt by dialling, by configured address. */
  readonly peerIds = new Map<string, string>()
  /** Why the last dial of a configured address failed (`ferry peers`), until it succeeds. */
  readonly failures = new Map<string, string>()

  constructor(
    private readonly node: Libp2p,
    readonly addresses: string[],
    private readonly log: Logger,
    /** This node's cluster secret file: named when a peer's secret differs. */
    private readonly secret?: string,
  ) {}

  /**
   * libp2p reports peers that discovery (mDNS) finds but does not dial them: dial each one found
   * that is not connected yet (the heads exchange then runs on identify).
   */
  private readonly onDiscovery = (event: CustomEvent<PeerInfo>) => {
    const { id } = event.detail
    if (this.controller.signal.aborted || this.node.getConnections(id).length > 0) return
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(10_000)])
    this.node.dial(id, { signal }).then(
      () => this.log.info({ peer: id.toString() }, 'connected to discovered peer'),
      (err: Error) =>
        this.log.debug({ peer: id.toString(), err: err.message }, 'discovered peer unreachable'),
    )
  }

  start(): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.node.addEventListener('peer:discovery', this.onDiscovery)
    for (const address of this.addresses) this.loops.push(this.keep(address))
  }

  async stop(): Promise<void> {
    this.controller.abort()
    this.onDisconnect()
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.node.removeEventListener('peer:discovery', this.onDiscovery)
    await Promise.allSettled(this.loops)
  }

  /** True when a connection to the peer at `address` is open. */
  connected(address: string): boolean {
    const id = this.peerIds.get(address)
    return (
      id !== undefined &&
      this.node.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open')
    )
  }

  private async keep(address: string): Promise<void> {
    const { signal } = this.controller
    let backoff = MIN_BACKOFF_MS
    const target = multiaddr(address)
    while (!signal.aborted) {
      let wait = CONNECTED_CHECK_MS
      if (!this.connected(address)) {
        try {
          const connection = await this.node.dial(target, {
            signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
          })
          this.peerIds.set(address, connection.remotePeer.toString())
          this.failures.delete(address)
          this.log.info({ peer: connection.remotePeer.toString(), address }, 'connected to peer')
          backoff = MIN_BACKOFF_MS
        } catch (err) {
          if (signal.aborted) return
          const failure = (await dialFailure(address, target, err, this.secret)).message
          // A new reason is worth a warning once (a secret that differs); the same one again only at debug.
          if (failure !== this.failures.get(address) && failure.includes('secret'))
            this.log.warn({ address, err: failure }, 'peer refused: cluster secrets differ')
          this.failures.set(address, failure)
          this.log.debug({ address, err: failure, retryMs: backoff }, 'peer unreachable')
          wait = backoff
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
        }
      }
      await this.sleep(wait)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wakers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakers.add(done)
    })
  }
}
