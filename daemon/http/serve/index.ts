/**
 * The serving port (`ferry daemon --serve HOST:PORT`): a read-only HTTP(S)
 * listener beside libp2p that serves the store's complete heads to the
 * cluster with the clients it already has — an OCI registry (`/v2/`), plain
 * files (`/files/`), an apt repository (`/apt/`), and a status page (`/`).
 * The admin API never answers here: it stays on the unix socket.
 *
 * Each kind of content is a route module (`ServeRoutes`) registered on one
 * router; they share the catalog of served heads, the artefact sender
 * (Range, ETag, verified blocks) and the access check.
 */
import type { Store } from '../../../store/index.js'
import type { DaemonStatus } from '../../ops/types.js'
import type { Logger } from '../../runtime/logger.js'
import type { ServeCatalog } from './catalog.js'
import type { ServedLog } from './served-log.js'

export { type AccessInit, type AccessVerdict, accessCheck, allowList } from './access.js'
export { ServeCatalog, type ServedHead } from './catalog.js'
export { type ServedArtefact, sendArtefact } from './send.js'
export { ServedLog, type ServedRequest, type ServedSummary } from './served-log.js'
export { type ServeServer, startServing } from './server.js'

/** How the serving port listens and whom it serves. */
export interface ServeInit {
  /** Where to listen. */
  host: string
  port: number
  /** PEM certificate chain and key: HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer }
  /** The token clients must send (Bearer, or Basic with any user). */
  token?: string
  /** Client addresses (CIDRs) allowed; every address when empty. */
  allow?: string[]
  /**
   * Connections open at once; more are refused.
   * @default 512
   */
  maxConnections?: number
  /**
   * A connection that sends or takes nothing this long is closed.
   * @default 60000
   */
  idleTimeoutMs?: number
}

/** What route modules get. */
export interface ServeContext {
  store: Store
  catalog: ServeCatalog
  log: Logger
  served: ServedLog
  /** The daemon's status (heads, peers, syncs), for the status page. */
  status(): Promise<DaemonStatus>
}

/** A route module: registers its paths on the router. */
export type ServeRoutes = (router: ServeRouter, ctx: ServeContext) => void

/** The router route modules register on (find-my-way, GET and HEAD). */
export type ServeRouter = import('find-my-way').Instance<import('find-my-way').HTTPVersion.V1>
