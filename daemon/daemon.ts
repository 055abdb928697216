import { setTimeout as sleep } from 'node:timers/promises'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import * as v from 'valibot'
import { FerryError, isFerryError, nonEmptyText, Store } from '../store/index.js'
import type { DaemonConfig } from './config.js'
import { type ApiServer, apiRoute, apiSocketPath, connectDaemon, startApiServer } from './http/index.js'
import { type ServeServer, startServing } from './http/serve/index.js'
import { serveInit } from './http/serve/init.js'
import { SERVE_ROUTES } from './http/serve/routes.js'
import { type DaemonStatus, localOperations, type PeerStatus, StoreGate, statusSummary } from './ops/index.js'
import { PeerDialer } from './p2p/dialer.js'
import { pull } from './p2p/pull.js'
import { startReplication } from './p2p/replication.js'
import type { Replicator } from './p2p/replicator.js'
import { tuneHeapForServing } from './runtime/heap-tuning.js'
import type { Logger } from './runtime/logger.js'

export interface DaemonInit {
  storeDir: string
  config: DaemonConfig
  log: Logger
}

/**
 * The long-running process on a store: owns the store, runs the libp2p node
 * (heads and sync protocols), keeps configured peers connected, follows
 * heads, and serves the API on `STORE/ferry.sock` so that every CLI command
 * works while it runs.
 */
export class Daemon {
  private constructor(
    private readonly store: Store,
    private readonly node: Libp2p,
    private readonly replicator: Replicator,
    private readonly dialer: PeerDialer,
    private readonly api: ApiServer,
    private readonly log: Logger,
    private readonly serving?: ServeServer,
  ) {}

  /** Opens the store (taking its lock), starts the node, the replicator, the dialer and the API. */
  static async start(init: DaemonInit): Promise<Daemon> {
    const { config, log } = init
    const store = await openWhenFree(init.storeDir, log)
    try {
      const gate = new StoreGate()
      const { node, replicator } = await startReplication(store, { ...config, log, gate })
      const dialer = new PeerDialer(node, config.peers, log, config.secret)
      let daemon: Daemon | undefined
      const api = await startApiServer({
        socketPath: apiSocketPath(store.dir),
        operations: localOperations(store, gate, { archiveDirs: config.archiveDirs }),
        status: () => (daemon as Daemon).status(),
        extra: {
          sync: apiRoute(
            v.strictObject({
              address: nonEmptyText,
              head: v.optional(nonEmptyText),
            }),
            true,
            (args, options) =>
              pull(replicator, args.address, {
                head: args.head,
                signal: options.signal,
                secret: config.secret,
              }),
          ),
        },
        log,
      })
      let serving: ServeServer | undefined
      if (config.serve !== undefined) {
        try {
          serving = await startServing(
            { store, log, status: () => (daemon as Daemon).status() },
            await serveInit(config.serve),
            SERVE_ROUTES,
          )
          tuneHeapForServing()
        } catch (err) {
          await api.close()
          await replicator.stop()
          await node.stop()
          throw err
        }
      }
      daemon = new Daemon(store, node, replicator, dialer, api, log, serving)
      dialer.start()
      log.info(
        {
          peerId: node.peerId.toString(),
          addrs: node.getMultiaddrs().map(String),
          follow: config.follow,
          peers: config.peers,
          mdns: config.mdns,
          secret: config.secret !== undefined,
          socket: api.socketPath,
        },
        'daemon started',
      )
      const recovered = store.blocks.recoveredOnOpen
      if (recovered.blocks > 0) {
        log.info(recovered, 'the store took back blocks written after its last commit (a kill or a crash)')
      }
      return daemon
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /**
   * Stops cleanly: the API stops taking requests, syncs finish the batches in
   * flight and make them durable, the node hangs up, the store is closed.
   */
  async stop(): Promise<void> {
    this.log.info('daemon stopping')
    await this.serving?.close()
    await this.api.close()
    await this.dialer.stop()
    await this.replicator.stop()
    await this.node.stop()
    await this.store.close()
    this.log.info('daemon stopped')
  }

  /** The serving port's line of the status. */
  private servingStatus(serving: ServeServer): NonNullable<DaemonStatus['serve']> {
    const { requests, bytes } = serving.served.summary()
    return { address: serving.address, tls: serving.tls, requests, bytes }
  }

  /** `GET /api/status`. */
  async status(): Promise<DaemonStatus> {
    const summary = await statusSummary(this.store)
    const connected = new Map<string, string[]>()
    for (const connection of this.node.getConnections()) {
      const id = connection.remotePeer.toString()
      connected.set(id, [...(connected.get(id) ?? []), connection.remoteAddr.toString()])
    }
    const peers: PeerStatus[] = [...connected].map(([id, addrs]) => ({ id, addrs, connected: true }))
    for (const address of this.dialer.addresses) {
      const id = this.dialer.peerIds.get(address)
      if (id !== undefined && connected.has(id)) continue
      const error = this.dialer.failures.get(address)
      peers.push({
        id: id ?? peerIdOf(address),
        addrs: [address],
        connected: false,
        ...(error ? { error } : {}),
      })
    }
    return {
      ...summary,
      peerId: this.node.peerId.toString(),
      addrs: this.node.getMultiaddrs().map(String),
      peers,
      sync: this.replicator.syncs(),
      ...(this.serving === undefined ? {} : { serve: this.servingStatus(this.serving) }),
    }
  }
}

/** The peer ID an address names (its /p2p/ part), or '' when it names none. */
function peerIdOf(address: string): string {
  try {
    return (
      multiaddr(address)
        .getComponents()
        .findLast((c) => c.name === 'p2p')?.value ?? ''
    )
  } catch {
    return ''
  }
}

/** How long a starting daemon waits for a short-lived command that holds the store's lock. */
const LOCK_WAIT_MS = 15_000
const LOCK_POLL_MS = 200

/**
 * Opens the store, waiting while another ferry process holds its lock: a
 * command run just as the daemon starts (`ferry status` before the socket
 * exists opens the store itself) must not make the daemon fail. A lock still
 * held after LOCK_WAIT_MS is ERR_STORE_LOCKED, as before.
 */
async function openWhenFree(storeDir: string, log: Logger): Promise<Store> {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (let waited = false; ; waited = true) {
    try {
      return await Store.open(storeDir)
    } catch (err) {
      if (!isFerryError(err, 'ERR_STORE_LOCKED') || Date.now() >= deadline) throw err
      // A daemon holds it: that does not pass.
      if ((await connectDaemon(storeDir)) !== undefined)
        throw new FerryError('ERR_STORE_LOCKED', `a ferry daemon already runs on ${storeDir}`, { cause: err })
      if (!waited)
        log.info({ store: storeDir }, 'the store is in use by another ferry command; waiting for it')
      await sleep(LOCK_POLL_MS)
    }
  }
}
