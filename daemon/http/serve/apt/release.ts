/**
 * The `Release` file of a head's flat repository: who made it, when, and the
 * MD5Sum and SHA256 of each index it covers. apt checks each index it
 * fetches against these, and the Release against its signature.
 */
import { createHash } from 'node:crypto'

/** What the Release says besides its hashes. */
export interface ReleaseInit {
  /** `Label`: the head's name. */
  label: string
  /** `Description`: the head, its version and root. */
  description: string
  /** `Date`. */
  date: Date
  /** The index files by name (`Packages`, `Packages.gz`). */
  files: Array<[name: string, bytes: Uint8Array]>
}

/** The Release text (no `Suite`/`Codename`: a flat repository has none to match). */
export function releaseFile(init: ReleaseInit): string {
  const hashes = (algorithm: string) =>
    init.files
      .map(
        ([name, bytes]) => ` ${createHash(algorithm).update(bytes).digest('hex')} ${bytes.length} ${name}\n`,
      )
      .join('')
  return (
    'Origin: ferry\n' +
    `Label: ${oneLine(init.label)}\n` +
    `Date: ${init.date.toUTCString().replace('GMT', 'UTC')}\n` +
    `Description: ${oneLine(init.description)}\n` +
    `MD5Sum:\n${hashes('md5')}` +
    `SHA256:\n${hashes('sha256')}`
  )
}

/** A field value on one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
