import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { FerryError } from '../../../store/index.js'
import type { CallOptions, Operations } from '../../ops/operations.js'
import type { DaemonStatus } from '../../ops/types.js'
import { ApiTransport, isNobodyListening } from './transport.js'
import { API_VERSION, apiSocketPath, OPERATION_NAMES as NAMES } from './wire.js'

/** How long a daemon has to answer its first request. */
const CONNECT_TIMEOUT_MS = 2000

/** {@link Operations} of a running daemon, over its unix socket. */
export interface RemoteOperations extends Operations {
  readonly socketPath: string
  /** `GET /api/status`: the daemon's peer id, addresses, peers, syncs and store. */
  status(): Promise<DaemonStatus>
  /** `POST /api/NAME` for operations beyond {@link Operations} (the daemon's own: peers, sync). */
  call<T>(name: string, args?: object, options?: CallOptions): Promise<T>
  /** Closes the connection; call it when done. */
  close(): void
}

/**
 * The daemon that owns the store in `storeDir`, if one runs: when
 * `STORE/ferry.sock` answers within ~2 s. It is asked `GET /api/hello`, not
 * the status, which counts the store's blocks and takes long on a large
 * store. Undefined when there is no socket or nothing listens on it (a
 * daemon that crashed left it); ERR_DAEMON_UNAVAILABLE when something
 * listens but does not answer, or speaks another API version. Errors of its
 * operations are the daemon's FerryErrors, same code and message.
 */
export async function connectDaemon(storeDir: string): Promise<RemoteOperations | undefined> {
  const socketPath = apiSocketPath(resolve(storeDir))
  if (!existsSync(socketPath)) return undefined
  const api = new ApiTransport(socketPath)
  let hello: { ferry?: unknown }
  try {
    hello = await api.getJson('/api/hello', { timeoutMs: CONNECT_TIMEOUT_MS })
  } catch (err) {
    api.close()
    if (isNobodyListening(err)) return undefined
    throw err
  }
  if (hello?.ferry !== API_VERSION) {
    api.close()
    throw new FerryError(
      'ERR_DAEMON_UNAVAILABLE',
      `the daemon on ${socketPath} speaks API version ${String(hello?.ferry)}, this ferry ${API_VERSION}: restart the daemon with this ferry`,
    )
  }
  return remoteOperations(api)
}

function remoteOperations(api: ApiTransport): RemoteOperations {
  return {
    socketPath: api.socketPath,
    status: () => api.getJson('/api/status'),
    call: (name, args = {}, options) => api.post(name, args, options),
    close: () => api.close(),
    heads: () => api.post(NAMES.heads, {}),
    entries: (args) => api.post(NAMES.entries, args),
    cat: (args, options) => api.stream(`/api/cat?ref=${encodeURIComponent(args.ref)}`, options),
    buildBom: (args, options) => api.post(NAMES.buildBom, args, options),
    download: (args, options) => api.post(NAMES.download, args, options),
    load: (args, options) => api.post(NAMES.load, args, options),
    verify: (args, options) => api.post(NAMES.verify, args, options),
    gc: (options) => api.post(NAMES.gc, {}, options),
    storeStatus: () => api.post(NAMES.storeStatus, {}),
    keyShow: () => api.post(NAMES.keyShow, {}),
    aptKey: () => api.post(NAMES.aptKey, {}),
    trustAdd: (args) => api.post(NAMES.trustAdd, args),
    trustList: () => api.post(NAMES.trustList, {}),
    trustRemove: (args) => api.post(NAMES.trustRemove, args),
    exportArchive: (args, options) => api.post(NAMES.exportArchive, args, options),
    importArchive: (args, options) => api.post(NAMES.importArchive, args, options),
    inventory: () => api.post(NAMES.inventory, {}),
  }
}
