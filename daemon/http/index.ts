/**
 * ferry over HTTP: one server module (`server.ts`) for every listener, one
 * error map (`errors.ts`: code → HTTP status and OCI error), and the API on
 * the unix socket (`api/`). The read-only serving port (registry, files,
 * apt) is to come beside `api/`, on the same server and error map.
 */

export * from './api/index.js'
export { HTTP_ERRORS, type HttpErrorMapping, httpStatus, type OciErrorCode, ociErrorCode } from './errors.js'
export { type HttpListen, type HttpServer, type HttpServerInit, startHttpServer } from './server.js'
