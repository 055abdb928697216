/**
 * The one map from ferry's stable error codes to what an HTTP answer says:
 * its status, and the error code of the OCI distribution API (`{"errors":
 * [{"code": …}]}`) for the registry the daemon is to serve. The API on the
 * unix socket uses the status (its clients go by the code in the body); the
 * registry will use both.
 */
import type { ErrorCode } from '../../store/index.js'

/**
 * The error codes of the OCI distribution spec (v1.1, "Error Codes"), and
 * `UNKNOWN`: the spec names none for a server's own failure, and the
 * reference registry (distribution) answers those with `UNKNOWN`.
 */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNKNOWN'

/**
 * What a registry request was about, where the OCI code depends on it: a
 * manifest (by tag or digest), a blob (by digest), or a repository name.
 */
export type OciSubject = 'manifest' | 'blob' | 'repository'

/** How one error code answers over HTTP: its status, and its OCI code (fixed, or by subject). */
export interface HttpErrorMapping {
  status: number
  oci: OciErrorCode | Readonly<Record<OciSubject, OciErrorCode>>
}

const UNKNOWN_BY_SUBJECT = {
  manifest: 'MANIFEST_UNKNOWN',
  blob: 'BLOB_UNKNOWN',
  repository: 'NAME_UNKNOWN',
} as const
const INVALID_BY_SUBJECT = {
  manifest: 'MANIFEST_INVALID',
  blob: 'DIGEST_INVALID',
  repository: 'NAME_INVALID',
} as const

const NOT_FOUND: HttpErrorMapping = { status: 404, oci: UNKNOWN_BY_SUBJECT }
/** The request itself is wrong: a bad argument, path, reference or body. */
const BAD_INPUT: HttpErrorMapping = { status: 400, oci: INVALID_BY_SUBJECT }
/** The request is sound but the store's state refuses it (already there, locked, older, incomplete). */
const CONFLICT: HttpErrorMapping = { status: 409, oci: 'UNKNOWN' }
/** Content the request brought, or points at, fails ferry's checks. */
const REFUSED_CONTENT: HttpErrorMapping = { status: 422, oci: 'UNKNOWN' }
/** Refused by the store's trust list: no key, or no valid signature, that it accepts. */
const UNTRUSTED: HttpErrorMapping = { status: 403, oci: 'DENIED' }
/** The daemon's own failure (its store, its disk, a bug). */
const SERVER: HttpErrorMapping = { status: 500, oci: 'UNKNOWN' }
/** A server the daemon fetched from failed it (unreachable, an error status, a cut body). */
const UPSTREAM: HttpErrorMapping = { status: 502, oci: 'UNKNOWN' }
/** Nobody to do it now: the daemon is stopping or unreachable, or the work was cancelled. */
const UNAVAILABLE: HttpErrorMapping = { status: 503, oci: 'UNKNOWN' }

/**
 * Every {@link ErrorCode} and how it answers over HTTP. A `Record` over the
 * code union, so a new code does not compile until it has its row here.
 */
export const HTTP_ERRORS: Readonly<Record<ErrorCode, HttpErrorMapping>> = {
  ERR_NOT_FOUND: NOT_FOUND,
  ERR_INVALID_ARGUMENT: BAD_INPUT,
  ERR_INVALID_REQUIREMENTS: BAD_INPUT,
  ERR_BAD_REQUEST: BAD_INPUT,
  ERR_AMBIGUOUS: BAD_INPUT,
  ERR_UNSUPPORTED_SOURCE: { status: 400, oci: 'UNSUPPORTED' },
  ERR_ALREADY_INITIALIZED: CONFLICT,
  ERR_STORE_LOCKED: CONFLICT,
  ERR_ROLLBACK: CONFLICT,
  ERR_INCOMPLETE: CONFLICT,
  ERR_CHECKSUM_MISMATCH: { status: 422, oci: 'DIGEST_INVALID' },
  ERR_BAD_ARCHIVE: REFUSED_CONTENT,
  ERR_BAD_SIGNATURE: UNTRUSTED,
  ERR_UNTRUSTED_KEY: UNTRUSTED,
  // A block that fails its hash on the way out of the store is the store's fault; an import of a
  // corrupt archive stops with it too, but then nothing but the CLI, which reads the code, is asking.
  ERR_CORRUPT_BLOCK: SERVER,
  ERR_VERIFY_FAILED: SERVER,
  ERR_NOT_INITIALIZED: SERVER,
  ERR_IO: SERVER,
  // 507 Insufficient Storage (RFC 4918): the daemon's disk is full; it recovers once space returns.
  ERR_NO_SPACE: { status: 507, oci: 'UNKNOWN' },
  ERR_PERMISSION: SERVER,
  ERR_INTERNAL: SERVER,
  ERR_PROTOCOL: SERVER,
  ERR_PEER: UPSTREAM,
  ERR_DAEMON_UNAVAILABLE: UNAVAILABLE,
  ERR_ABORTED: UNAVAILABLE,
  // A download's source failed: the daemon was a client there, so the fault is upstream.
  ERR_DIGEST_MISMATCH: { status: 422, oci: 'DIGEST_INVALID' },
  ERR_UNREACHABLE: UPSTREAM,
  ERR_UNAUTHORIZED: { status: 401, oci: 'UNAUTHORIZED' },
  ERR_HTTP: UPSTREAM,
  ERR_TRUNCATED: UPSTREAM,
  ERR_PLATFORM_NOT_FOUND: { status: 404, oci: 'MANIFEST_UNKNOWN' },
  ERR_UNSATISFIABLE: BAD_INPUT,
}

/** The row of `code`; a string that is no ferry code (say, from an older or newer peer) is a server error. */
function mapping(code: string): HttpErrorMapping {
  return Object.hasOwn(HTTP_ERRORS, code) ? HTTP_ERRORS[code as ErrorCode] : SERVER
}

/** The HTTP status of an error answer with this ferry code. */
export function httpStatus(code: string): number {
  return mapping(code).status
}

/** The OCI distribution error code of a registry answer with this ferry code, about `subject`. */
export function ociErrorCode(code: string, subject: OciSubject): OciErrorCode {
  const { oci } = mapping(code)
  return typeof oci === 'string' ? oci : oci[subject]
}
