import test from 'ava'
import {
  HTTP_ERRORS,
  httpStatus,
  type OciErrorCode,
  type OciSubject,
  ociErrorCode,
} from '../../../../daemon/http/errors.js'
import type { ErrorCode } from '../../../../store/index.js'

const SUBJECTS: OciSubject[] = ['manifest', 'blob', 'repository']

/** The codes of the OCI distribution spec, and distribution's UNKNOWN for a server's own failure. */
const OCI_CODES = new Set<OciErrorCode>([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'UNKNOWN',
])

test('ERR_NOT_FOUND is 404, and MANIFEST_UNKNOWN, BLOB_UNKNOWN or NAME_UNKNOWN by what was asked for', (t) => {
  t.is(httpStatus('ERR_NOT_FOUND'), 404)
  t.is(ociErrorCode('ERR_NOT_FOUND', 'manifest'), 'MANIFEST_UNKNOWN')
  t.is(ociErrorCode('ERR_NOT_FOUND', 'blob'), 'BLOB_UNKNOWN')
  t.is(ociErrorCode('ERR_NOT_FOUND', 'repository'), 'NAME_UNKNOWN')
})

test('bad input is 400, and MANIFEST_INVALID, DIGEST_INVALID or NAME_INVALID by subject', (t) => {
  for (const code of [
    'ERR_BAD_REQUEST',
    'ERR_INVALID_ARGUMENT',
    'ERR_INVALID_REQUIREMENTS',
    'ERR_AMBIGUOUS',
  ]) {
    t.is(httpStatus(code), 400, code)
    t.is(ociErrorCode(code, 'manifest'), 'MANIFEST_INVALID', code)
    t.is(ociErrorCode(code, 'blob'), 'DIGEST_INVALID', code)
    t.is(ociErrorCode(code, 'repository'), 'NAME_INVALID', code)
  }
  t.is(httpStatus('ERR_UNSUPPORTED_SOURCE'), 400)
  t.is(ociErrorCode('ERR_UNSUPPORTED_SOURCE', 'blob'), 'UNSUPPORTED')
})

test('trust refusals are 403 DENIED; content that does not match its digest is 422 DIGEST_INVALID', (t) => {
  for (const code of ['ERR_UNTRUSTED_KEY', 'ERR_BAD_SIGNATURE']) {
    t.is(httpStatus(code), 403, code)
    t.is(ociErrorCode(code, 'manifest'), 'DENIED', code)
  }
  t.is(httpStatus('ERR_CHECKSUM_MISMATCH'), 422)
  t.is(ociErrorCode('ERR_CHECKSUM_MISMATCH', 'blob'), 'DIGEST_INVALID')
  t.is(httpStatus('ERR_BAD_ARCHIVE'), 422)
  for (const code of ['ERR_ROLLBACK', 'ERR_STORE_LOCKED', 'ERR_ALREADY_INITIALIZED', 'ERR_INCOMPLETE']) {
    t.is(httpStatus(code), 409, code)
  }
})

test("the daemon's own failures are 5xx UNKNOWN, and so is a code ferry does not know", (t) => {
  const server: [string, number][] = [
    ['ERR_INTERNAL', 500],
    ['ERR_IO', 500],
    ['ERR_CORRUPT_BLOCK', 500],
    ['ERR_VERIFY_FAILED', 500],
    ['ERR_PROTOCOL', 500],
    ['ERR_PEER', 502],
    ['ERR_ABORTED', 503],
    ['ERR_DAEMON_UNAVAILABLE', 503],
    ['ERR_FROM_A_NEWER_FERRY', 500],
    ['toString', 500],
  ]
  for (const [code, status] of server) {
    t.is(httpStatus(code), status, code)
    for (const subject of SUBJECTS) t.is(ociErrorCode(code, subject), 'UNKNOWN', `${code} ${subject}`)
  }
})

test('every code answers an error status and an OCI code of the spec for every subject', (t) => {
  const codes = Object.keys(HTTP_ERRORS) as ErrorCode[]
  for (const code of codes) {
    const status = httpStatus(code)
    t.true(status >= 400 && status <= 599, `${code}: ${status}`)
    for (const subject of SUBJECTS) t.true(OCI_CODES.has(ociErrorCode(code, subject)), `${code} ${subject}`)
  }
})
