import { join } from 'node:path'
import { type ErrorCode, escapedSystemError, FerryError, isFerryError } from '../../../store/index.js'
import type { Operations } from '../../ops/operations.js'
import type { DownloadEvent } from '../../sources/downloader.js'

/** The API socket of the daemon that owns the store in `storeDir`. */
export function apiSocketPath(storeDir: string): string {
  return join(storeDir, 'ferry.sock')
}

/**
 * Version of the API, answered by `GET /api/hello` (`{"ferry": API_VERSION}`):
 * bumped when a CLI and a daemon of different versions could misunderstand
 * each other.
 */
export const API_VERSION = 1

/** Content type of long operations' answers: one JSON value per line. */
export const NDJSON = 'application/x-ndjson'

/** HTTP trailer that carries an error met after `cat` began sending bytes. */
export const ERROR_TRAILER = 'ferry-error'

/** An error as the API sends it: the FerryError's code, message and details. */
export interface WireError {
  code: string
  message: string
  details?: Record<string, unknown>
}

/**
 * The lines of an NDJSON answer: any number of progress and event lines
 * (a download's per-artefact events), then one result or one error.
 */
export type AnswerLine =
  | { progress: [done: number, total: number]; label?: string }
  | { event: DownloadEvent }
  | { result: unknown }
  | { error: WireError }

/** Any thrown value as the API sends it; what is not a FerryError becomes ERR_INTERNAL (or ERR_ABORTED). */
export function toWireError(thrown: unknown): WireError {
  // A file error no layer named (EACCES on a data file): ERR_PERMISSION naming the file, not ERR_INTERNAL.
  const err = escapedSystemError(thrown, 'a file of the daemon') ?? thrown
  if (isFerryError(err)) {
    return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) }
  }
  const aborted = err instanceof Error && err.name === 'AbortError'
  return {
    code: aborted ? 'ERR_ABORTED' : 'ERR_INTERNAL',
    message: err instanceof Error ? err.message : String(err),
  }
}

/** The FerryError the daemon threw, rebuilt on the client side with the same code, message and details. */
export function fromWireError(error: WireError): FerryError {
  return new FerryError(
    error.code as ErrorCode,
    error.message,
    error.details ? { details: error.details } : {},
  )
}

/**
 * The name of each POST operation: `POST /api/NAME`. (`cat` is `GET
 * /api/cat?ref=…`, the daemon's status `GET /api/status`.)
 */
export const OPERATION_NAMES = {
  heads: 'heads',
  entries: 'entries',
  buildBom: 'bom-build',
  download: 'download',
  load: 'load',
  verify: 'verify',
  gc: 'gc',
  storeStatus: 'store-status',
  keyShow: 'key-show',
  aptKey: 'apt-key',
  trustAdd: 'trust-add',
  trustList: 'trust-list',
  trustRemove: 'trust-remove',
  exportArchive: 'export',
  importArchive: 'import',
  inventory: 'inventory',
} as const satisfies Record<Exclude<keyof Operations, 'cat'>, string>
