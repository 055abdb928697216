/**
 * The daemon's API on the unix socket `STORE/ferry.sock`: the operations the
 * CLI needs, served over HTTP by the daemon and called by the CLI.
 */

export { connectDaemon, type RemoteOperations } from './client.js'
export { type ApiHandler, type ApiHandlerOptions, type ApiLog, createApiHandler } from './handler.js'
export {
  type BuildArgs,
  type CallOptions,
  type ExportArgs,
  type ImportArgs,
  localOperations,
  type OnProgress,
  type Operations,
} from './operations.js'
export { type ApiRoute, apiRoute } from './routes.js'
export { type ApiServer, type ApiServerOptions, startApiServer } from './server.js'
export { StoreGate } from './store-gate.js'
export { entrySummaries, headSummaries, statusSummary } from './summaries.js'
export type * from './types.js'
export { apiSocketPath } from './wire.js'
