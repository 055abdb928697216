import type { IncomingMessage, ServerResponse } from 'node:http'
import Router from 'find-my-way'
import type { Store } from '../../../store/index.js'
import type { DaemonStatus } from '../../ops/types.js'
import type { Logger } from '../../runtime/logger.js'
import { type HttpServer, startHttpServer } from '../server.js'
import { accessCheck } from './access.js'
import { ServeCatalog } from './catalog.js'
import type { ServeContext, ServeInit, ServeRoutes } from './index.js'
import { ServedLog } from './served-log.js'

/** Bounds for clients of the serving port: headers, time to send them, idle keep-alive. */
const MAX_HEADER_BYTES = 16 * 1024
const HEADERS_TIMEOUT_MS = 20_000
const KEEP_ALIVE_MS = 5_000

/** The running serving port. */
export interface ServeServer {
  /** `HOST:PORT` bound. */
  readonly address: string
  readonly tls: boolean
  readonly catalog: ServeCatalog
  readonly served: ServedLog
  close(): Promise<void>
}

export interface ServeComponents {
  store: Store
  log: Logger
  status(): Promise<DaemonStatus>
}

/**
 * A path that could reach outside what it names: `..` segments (also
 * percent-encoded), NUL, backslashes, bad percent-encoding. `.` segments
 * are dropped first (apt asks `/apt/HEAD/./InRelease` for a flat repository
 * written `deb URL ./`), unless encoded.
 */
function unsafePath(rawPath: string): boolean {
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return true
  }
  return (
    decoded.includes('\0') ||
    decoded.includes('\\') ||
    decoded.split('/').some((s) => s === '..' || s === '.')
  )
}

/** `req.url` without its plain `.` segments. */
function withoutDotSegments(url: string): string {
  const query = url.indexOf('?')
  const path = query < 0 ? url : url.slice(0, query)
  const cleaned = path.replace(/\/\.(?=\/|$)/g, '') || '/'
  return query < 0 ? cleaned : cleaned + url.slice(query)
}

/** Answers a refusal the way the client of that path understands (OCI JSON for /v2/). */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  const headers: Record<string, string> = {}
  if (status === 401) headers['www-authenticate'] = 'Basic realm="ferry"'
  if ((req.url ?? '').startsWith('/v2')) {
    headers['docker-distribution-api-version'] = 'registry/2.0'
    const body = JSON.stringify({ errors: [{ code, message, detail: null }] })
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    res.end(req.method === 'HEAD' ? undefined : body)
    return
  }
  const body = `${message}\n`
  res.writeHead(status, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * Starts the serving port with the given route modules. Every request is
 * checked (client address, token, a safe path) before any route sees it,
 * and counted in the served log when it ends.
 */
export async function startServing(
  components: ServeComponents,
  init: ServeInit,
  routes: ServeRoutes[],
): Promise<ServeServer> {
  const { store, log } = components
  const catalog = new ServeCatalog(store)
  const served = new ServedLog()
  const check = accessCheck({ token: init.token, allow: init.allow })
  const router = Router({
    ignoreDuplicateSlashes: false,
    maxParamLength: 1024,
    defaultRoute: (req, res) => refuse(req, res, 404, 'NAME_UNKNOWN', `nothing is served at ${req.url}`),
  })
  const ctx: ServeContext = { store, catalog, log, served, status: components.status }
  for (const register of routes) register(router, ctx)

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now()
    let bytes = 0
    const count = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) bytes += Buffer.byteLength(chunk)
    }
    const write = res.write.bind(res)
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      count(chunk)
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof res.write
    // Short answers (JSON, text, the status page) are sent whole by end(body).
    const end = res.end.bind(res)
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') count(chunk)
      return (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest)
    }) as typeof res.end
    res.once('close', () => {
      served.record({
        at: new Date().toISOString(),
        method: req.method ?? '',
        path: (req.url ?? '').slice(0, 300),
        status: res.statusCode,
        bytes,
        client: req.socket.remoteAddress ?? '',
      })
      if (Date.now() - started > 60_000)
        log.debug({ path: req.url, ms: Date.now() - started }, 'serving: long request')
    })
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return refuse(req, res, 405, 'UNSUPPORTED', 'the serving port is read-only: GET and HEAD only')
    }
    const verdict = check(req)
    if (verdict === 'forbidden')
      return refuse(req, res, 403, 'DENIED', 'this address may not use this server')
    if (verdict === 'unauthorized') return refuse(req, res, 401, 'UNAUTHORIZED', 'a token is required')
    req.url = withoutDotSegments(req.url ?? '/')
    if (unsafePath(req.url.split('?', 1)[0]))
      return refuse(req, res, 400, 'NAME_INVALID', 'the path is not allowed')
    try {
      router.lookup(req, res)
    } catch (err) {
      log.error({ err, path: req.url }, 'serving: request failed')
      if (!res.headersSent) refuse(req, res, 500, 'UNKNOWN', 'internal error')
      else res.destroy()
    }
  }

  let server: HttpServer
  try {
    server = await startHttpServer({
      listen: { host: init.host, port: init.port },
      handle,
      tls: init.tls,
      maxConnections: init.maxConnections ?? 512,
      idleTimeoutMs: init.idleTimeoutMs ?? 60_000,
      options: {
        maxHeaderSize: MAX_HEADER_BYTES,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: 0,
        keepAliveTimeout: KEEP_ALIVE_MS,
      },
    })
  } catch (err) {
    catalog.close()
    throw err
  }
  const open = [
    init.tls === undefined && 'no TLS',
    init.token === undefined && 'no token',
    (init.allow ?? []).length === 0 && 'every client address',
  ].filter(Boolean)
  log.info(
    {
      serve: server.address,
      tls: init.tls !== undefined,
      token: init.token !== undefined,
      allow: init.allow ?? [],
    },
    open.length === 0
      ? 'serving'
      : `serving with ${open.join(', ')}: anyone who can reach ${server.address} can read every served head`,
  )
  return {
    address: server.address,
    tls: init.tls !== undefined,
    catalog,
    served,
    async close() {
      await server.close()
      catalog.close()
    },
  }
}
