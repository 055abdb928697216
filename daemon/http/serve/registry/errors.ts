import type { IncomingMessage, ServerResponse } from 'node:http'
import { isFerryError } from '../../../../store/index.js'
import { httpStatus, type OciErrorCode, type OciSubject, ociErrorCode } from '../../errors.js'
import type { ServeContext } from '../index.js'

/** The header every answer under `/v2/` carries: clients check it to know they speak to a registry. */
export const API_VERSION_HEADER = 'docker-distribution-api-version'
export const API_VERSION = 'registry/2.0'

/**
 * A registry answer that is an error: the status, and the spec's JSON body
 * (`{"errors": [{"code", "message", "detail"}]}`).
 */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: OciErrorCode,
    message: string,
    readonly detail: unknown = null,
  ) {
    super(message)
    this.name = 'RegistryError'
  }
}

/** Answers an OCI error (no body for HEAD, as the spec has it). */
export function sendRegistryError(req: IncomingMessage, res: ServerResponse, err: RegistryError): void {
  const body = JSON.stringify({ errors: [{ code: err.code, message: err.message, detail: err.detail }] })
  res.writeHead(err.status, {
    [API_VERSION_HEADER]: API_VERSION,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** A registry route's handler. */
export type RegistryHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/**
 * Wraps a registry handler: a {@link RegistryError} is answered as it says;
 * a FerryError by its row in daemon/http/errors.ts (about `subject`);
 * anything else is logged and answered 500 `UNKNOWN`. Once the answer has
 * started, the response is cut instead.
 */
export function registryHandled(ctx: ServeContext, subject: OciSubject, handler: RegistryHandler) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader(API_VERSION_HEADER, API_VERSION)
    handler(req, res).catch((err: unknown) => {
      const answer =
        err instanceof RegistryError
          ? err
          : isFerryError(err)
            ? new RegistryError(httpStatus(err.code), ociErrorCode(err.code, subject), err.message)
            : new RegistryError(500, 'UNKNOWN', 'internal error')
      if (answer.status >= 500) ctx.log.error({ err, path: req.url }, 'serving: registry request failed')
      if (res.headersSent) return void res.destroy()
      sendRegistryError(req, res, answer)
    })
  }
}
