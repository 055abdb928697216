import { chmod, unlink } from 'node:fs/promises'
import { FerryError } from '../../../store/index.js'
import { startHttpServer } from '../server.js'
import { type ApiHandlerOptions, createApiHandler } from './handler.js'
import { removeStaleSocket } from './stale-socket.js'

/**
 * Bounds for clients of the socket. Requests are small JSON sent at once (answers may stream for
 * long; these bound only the request): a client that trickles its headers or body is cut, so a
 * stuck or hostile one holds no connection for minutes (node's defaults: 60 s and 300 s).
 */
const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 15_000
const CHECK_INTERVAL_MS = 1_000
/** Far more than CLIs at once; a flood of connections is refused past it, not held until fds run out. */
const MAX_CONNECTIONS = 1024

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107

export interface ApiServerOptions extends ApiHandlerOptions {
  /** Where to listen: `STORE/ferry.sock` (see `apiSocketPath`). */
  socketPath: string
}

/** A listening API server. */
export interface ApiServer {
  readonly socketPath: string
  /** Aborts running operations, stops listening and removes the socket file. */
  close(): Promise<void>
}

/**
 * Serves the daemon's API (see `createApiHandler`) on a unix socket that
 * only this user may use (mode 0600). A socket file left by a crashed daemon
 * is replaced; one that still answers is not (ERR_STORE_LOCKED).
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { socketPath } = options
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${socketPath}: a unix socket path may have at most ${MAX_SOCKET_PATH} bytes; use a store folder with a shorter path`,
    )
  }
  await removeStaleSocket(socketPath)
  const handler = createApiHandler(options)
  const server = await startHttpServer({
    listen: { path: socketPath },
    handle: (req, res) => handler.handle(req, res),
    onClose: () => handler.abortAll(),
    maxConnections: MAX_CONNECTIONS,
    options: {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    },
  })
  await chmod(socketPath, 0o600)
  return {
    socketPath,
    async close() {
      await server.close()
      await unlink(socketPath).catch(() => {})
    },
  }
}
