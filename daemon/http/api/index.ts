/**
 * The daemon's API on the unix socket `STORE/ferry.sock`: the operations the
 * CLI needs, served over HTTP by the daemon and called by the CLI.
 */

export { connectDaemon, type RemoteOperations } from './client.js'
export { type ApiHandler, type ApiHandlerOptions, type ApiLog, createApiHandler } from './handler.js'
export { type ApiRoute, apiRoute } from './routes.js'
export { type ApiServer, type ApiServerOptions, startApiServer } from './server.js'
export { apiSocketPath } from './wire.js'
