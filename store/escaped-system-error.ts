import type { FerryError } from './errors.js'
import { systemCode, systemError } from './system-error.js'

/** The codes that say what the user can fix (space, rights), not a fault of ferry. */
const USER_FIXABLE = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM'])

/**
 * A Node.js file error (with its `path`) that no layer turned into a
 * FerryError — a refused `open` of a data file, a full disk — as the
 * ERR_PERMISSION / ERR_NO_SPACE that names the file; anything else:
 * undefined (it stays ERR_INTERNAL). An error without a path names
 * `unnamed` when given (a full disk met by LevelDB names no file). The last line of defence of the CLI
 * and the daemon's API, so that `chmod 000 file` never reads as a bug.
 */
export function escapedSystemError(err: unknown, unnamed?: string): FerryError | undefined {
  if (err === null || typeof err !== 'object' || err instanceof Error === false) return undefined
  if ((err as { name?: unknown }).name === 'FerryError') return undefined
  const code = systemCode(err)
  const path = (err as { path?: unknown }).path
  if (code === undefined || !USER_FIXABLE.has(code)) return undefined
  const subject = typeof path === 'string' ? path : unnamed
  return subject === undefined ? undefined : systemError(err, subject)
}
