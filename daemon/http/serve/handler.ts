import type { IncomingMessage, ServerResponse } from 'node:http'
import { isFerryError } from '../../../store/index.js'
import { httpStatus } from '../errors.js'
import type { ServeContext } from './index.js'

/** A route's handler: params from the router, answers the request itself. */
export type ServeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string | undefined>,
) => Promise<void>

/**
 * Wraps an async handler for the router: a FerryError thrown before the
 * answer started becomes its status (daemon/http/errors.ts) with the
 * message; after that the response is cut. Anything else is logged.
 */
export function handled(ctx: ServeContext, handler: ServeHandler) {
  return (req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>) => {
    handler(req, res, params).catch((err: unknown) => {
      const status = isFerryError(err) ? httpStatus(err.code) : 500
      if (status >= 500) ctx.log.error({ err, path: req.url }, 'serving: request failed')
      if (res.headersSent) return void res.destroy()
      sendText(req, res, status, isFerryError(err) ? err.message : 'internal error')
    })
  }
}

/** Answers a short text (a line), with no body for HEAD. */
export function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** Answers JSON, with no body for HEAD. */
export function sendJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(req.method === 'HEAD' ? undefined : body)
}
