/**
 * Stable error codes. Tests, the CLI and (later) the daemon API rely on them:
 * never rename a code, only add new ones.
 */
export type ErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_NOT_INITIALIZED'
  | 'ERR_ALREADY_INITIALIZED'
  | 'ERR_STORE_LOCKED'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_REQUIREMENTS'
  | 'ERR_UNSUPPORTED_SOURCE'
  | 'ERR_CHECKSUM_MISMATCH'
  | 'ERR_CORRUPT_BLOCK'
  | 'ERR_BAD_SIGNATURE'
  | 'ERR_UNTRUSTED_KEY'
  | 'ERR_ROLLBACK'
  | 'ERR_INCOMPLETE'
  | 'ERR_AMBIGUOUS'
  | 'ERR_VERIFY_FAILED'
  | 'ERR_IO'
  | 'ERR_BAD_ARCHIVE'
  | 'ERR_BAD_REQUEST'
  | 'ERR_DAEMON_UNAVAILABLE'
  | 'ERR_INTERNAL'
  | 'ERR_PROTOCOL'
  | 'ERR_PEER'
  | 'ERR_ABORTED'
  // Fetching (ferry download): what a source, a server or its content did wrong.
  | 'ERR_DIGEST_MISMATCH'
  | 'ERR_UNREACHABLE'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_HTTP'
  | 'ERR_TRUNCATED'
  | 'ERR_PLATFORM_NOT_FOUND'
  | 'ERR_UNSATISFIABLE'
  // The machine: a full disk, a file ferry may not read or write.
  | 'ERR_NO_SPACE'
  | 'ERR_PERMISSION'

/** The one error type ferry throws on purpose: a stable `code`, a message for people, the `cause`. */
export class FerryError extends Error {
  readonly code: ErrorCode
  /** Structured facts for `--json` output (CIDs, paths, counts). */
  readonly details?: Record<string, unknown>

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'FerryError'
    this.code = code
    this.details = options.details
  }
}

export function isFerryError(err: unknown, code?: ErrorCode): err is FerryError {
  return err instanceof FerryError && (code === undefined || err.code === code)
}
