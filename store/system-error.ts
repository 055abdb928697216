import { FerryError } from './errors.js'

/** The `code` of a Node.js system error (`ENOSPC`, `EACCES`…), also when it is the cause of a LevelDB error. */
export function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code
    const message = (e as { message?: unknown }).message
    // LevelDB reports a full disk in its message only ("IO error: …: No space left on device").
    if (typeof message === 'string' && /No space left on device/i.test(message)) return 'ENOSPC'
    if (typeof message === 'string' && /Permission denied/i.test(message)) return 'EACCES'
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Turns a system error met while working on `subject` (a store, a file) into a
 * FerryError that names it: a full disk is ERR_NO_SPACE, a refused access
 * ERR_PERMISSION, anything else ERR_IO. A FerryError passes through unchanged.
 */
export function systemError(err: unknown, subject: string): FerryError {
  if (err instanceof FerryError) return err
  const code = systemCode(err)
  const reason = err instanceof Error ? err.message : String(err)
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new FerryError('ERR_NO_SPACE', `no space left on the device of ${subject}: ${reason}`, {
      cause: err,
      details: { path: subject },
    })
  if (code === 'EACCES' || code === 'EPERM')
    return new FerryError('ERR_PERMISSION', `permission denied on ${subject}: ${reason}`, {
      cause: err,
      details: { path: subject },
    })
  return new FerryError('ERR_IO', `cannot use ${subject}: ${reason}`, {
    cause: err,
    details: { path: subject },
  })
}

/** The codes that say what the user can fix (space, rights), not a fault of ferry. */
const USER_FIXABLE = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM'])

/**
 * A system error that no layer turned into a FerryError (a refused `open` of
 * a data file, a full disk) as the ERR_PERMISSION / ERR_NO_SPACE naming its
 * `path`, or `unnamed` when it has none (LevelDB names no file); anything
 * else: undefined (it stays ERR_INTERNAL). The last line of defence of the
 * CLI and the daemon's API, so that `chmod 000 file` never reads as a bug.
 */
export function escapedSystemError(err: unknown, unnamed?: string): FerryError | undefined {
  if (!(err instanceof Error) || err instanceof FerryError) return undefined
  const code = systemCode(err)
  if (code === undefined || !USER_FIXABLE.has(code)) return undefined
  const path = (err as { path?: unknown }).path
  const subject = typeof path === 'string' ? path : unnamed
  return subject === undefined ? undefined : systemError(err, subject)
}
