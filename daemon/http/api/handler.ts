import type { IncomingMessage, ServerResponse } from 'node:http'
import Router from 'find-my-way'
import type { Logger } from 'pino'
import * as v from 'valibot'
import { FerryError, issueKeys, issueMessage } from '../../../store/index.js'
import type { Operations } from '../../ops/operations.js'
import type { DaemonStatus } from '../../ops/types.js'
import { answerLong, readJsonBody, sendError, sendJson, streamBytes } from './answers.js'
import { type ApiRoute, operationRoutes } from './routes.js'
import { API_VERSION, toWireError } from './wire.js'

/** What the API logs; a pino logger fits. */
export type ApiLog = Pick<Logger, 'debug' | 'warn' | 'error'>

export interface ApiHandlerOptions {
  operations: Operations
  /** `GET /api/status`. */
  status: () => Promise<DaemonStatus>
  /** More `POST /api/NAME` operations, such as the daemon's own (peers, sync); they may not replace the CLI's. */
  extra?: Record<string, ApiRoute>
  log?: ApiLog
}

/** The API as a request handler, and a way to stop every operation in flight. */
export interface ApiHandler {
  handle(req: IncomingMessage, res: ServerResponse): void
  /** Aborts the operations and byte streams that are running (when the daemon stops). */
  abortAll(): void
}

/**
 * Routes `GET /api/hello` (the API version: a cheap liveness probe),
 * `GET /api/status`, `GET /api/cat?ref=…` and `POST /api/NAME` (a
 * JSON body checked against the operation's schema: 400 ERR_BAD_REQUEST
 * when it does not fit). Each request's operation is aborted when its
 * client goes away.
 */
export function createApiHandler(options: ApiHandlerOptions): ApiHandler {
  const { operations, log } = options
  const running = new Set<AbortController>()
  const router = Router({
    ignoreTrailingSlash: true,
    defaultRoute: (req, res) =>
      sendError(res, new FerryError('ERR_NOT_FOUND', `no API route ${req.method} ${req.url}`)),
  })

  router.on('GET', '/api/hello', (_req, res) => sendJson(res, 200, { ferry: API_VERSION }))
  router.on('GET', '/api/status', async (_req, res) => sendJson(res, 200, await options.status()))
  router.on('GET', '/api/cat', async (_req, res, _params, _store, query) => {
    if (typeof query.ref !== 'string' || query.ref === '') {
      throw new FerryError('ERR_BAD_REQUEST', 'GET /api/cat needs ?ref=HEAD/MODULE/NAME or a CID')
    }
    const signal = signalFor(res)
    await streamBytes(res, signal, operations.cat({ ref: query.ref }, { signal }))
  })
  const routes = { ...options.extra, ...operationRoutes(operations) }
  for (const [name, route] of Object.entries(routes)) {
    router.on('POST', `/api/${name}`, async (req, res) => {
      const parsed = v.safeParse(route.schema, await readJsonBody(req))
      if (!parsed.success) {
        const issues = parsed.issues.map((issue) => ({
          path: issueKeys(issue).map(String),
          message: issueMessage(issue),
        }))
        const problems = issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
        throw new FerryError('ERR_BAD_REQUEST', `${name}: ${problems.join('; ')}`, { details: { issues } })
      }
      const signal = signalFor(res)
      if (route.long) return answerLong(res, signal, (callOptions) => route.run(parsed.output, callOptions))
      sendJson(res, 200, await route.run(parsed.output, { signal }))
    })
  }

  /** Aborted when the client goes away before the answer is complete, or by abortAll. */
  function signalFor(res: ServerResponse): AbortSignal {
    const controller = new AbortController()
    running.add(controller)
    res.once('close', () => {
      running.delete(controller)
      if (!res.writableFinished) controller.abort()
    })
    return controller.signal
  }

  return {
    handle(req, res) {
      const started = Date.now()
      res.on('error', (err) => log?.debug({ err }, 'api answer failed'))
      res.once('finish', () =>
        log?.debug(
          { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started },
          'api',
        ),
      )
      Promise.resolve(router.lookup(req, res)).catch((err) => {
        const { code } = toWireError(err)
        if (code === 'ERR_INTERNAL') log?.error({ err, url: req.url }, 'api operation failed')
        sendError(res, err)
      })
    },
    abortAll() {
      for (const controller of running) controller.abort()
    },
  }
}
