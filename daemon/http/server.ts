import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

/** How long `close` lets running answers finish, before cutting connections. */
const CLOSE_GRACE_MS = 5000

/** Where an HTTP server listens: a unix socket path, or a TCP host and port. */
export type HttpListen = { path: string } | { host: string; port: number }

export interface HttpServerInit {
  listen: HttpListen
  handle(req: IncomingMessage, res: ServerResponse): void
  /** Called first by `close`: abort the work of running answers so they end within the grace period. */
  onClose?(): void
  /**
   * Most connections open at once; more are refused.
   * @default unlimited (the unix socket is this user's only)
   */
  maxConnections?: number
  /** Serve HTTPS with this certificate chain and key (PEM). */
  tls?: { cert: Buffer; key: Buffer }
  /** node's server options: header size and timeouts (the serving port and the API socket bound them). */
  options?: Pick<
    ServerOptions,
    | 'maxHeaderSize'
    | 'headersTimeout'
    | 'requestTimeout'
    | 'keepAliveTimeout'
    | 'connectionsCheckingInterval'
    | 'highWaterMark'
  >
  /** Idle sockets are closed after this long. @default node's (none) */
  idleTimeoutMs?: number
}

/** A listening HTTP server (the API's on the unix socket; the serving port's later). */
export interface HttpServer {
  /** The socket path, or `HOST:PORT` actually bound (port 0 picks one). */
  readonly address: string
  /** Stops listening; running answers get the grace period, idle connections end at once. */
  close(): Promise<void>
}

function listening(server: Server, listen: HttpListen): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const ready = () => {
      server.off('error', reject)
      resolve()
    }
    if ('path' in listen) server.listen(listen.path, ready)
    else server.listen(listen.port, listen.host, ready)
  })
}

/** Starts node's HTTP server on `init.listen`, with one graceful close for every listener ferry has. */
export async function startHttpServer(init: HttpServerInit): Promise<HttpServer> {
  const handle = (req: IncomingMessage, res: ServerResponse) => init.handle(req, res)
  const options = init.options ?? {}
  const server: Server =
    init.tls === undefined
      ? createServer(options, handle)
      : createTlsServer({ ...options, cert: init.tls.cert, key: init.tls.key }, handle)
  if (init.maxConnections !== undefined) server.maxConnections = init.maxConnections
  if (init.idleTimeoutMs !== undefined) server.setTimeout(init.idleTimeoutMs, (socket) => socket.destroy())
  await listening(server, init.listen)
  const bound = server.address()
  const address =
    typeof bound === 'string' || bound === null
      ? String(bound)
      : `${(bound as AddressInfo).address}:${bound.port}`
  let closing: Promise<void> | undefined
  return {
    address,
    close() {
      closing ??= (async () => {
        init.onClose?.()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
        await closed
        clearTimeout(timer)
      })()
      return closing
    },
  }
}
