/**
 * Signatures over a `Release` file: `InRelease` (the Release text,
 * cleartext-signed) and `Release.gpg` (an armored detached signature), both
 * by the repository key, SHA-256.
 */
import * as openpgp from 'openpgp'
import type { AptRepoKey } from './repo-key.js'

/**
 * `InRelease`: `release` cleartext-signed by `key`. OpenPGP.js writes the
 * text with CRLF line ends; they are written back as LF, as Debian's are (the
 * signature is over the canonical CRLF form either way).
 */
export async function clearsign(release: string, key: AptRepoKey): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text: release })
  return (await openpgp.sign({ message, signingKeys: key.privateKey })).replace(/\r\n/g, '\n')
}

/** `Release.gpg`: an armored detached signature of `release`'s bytes by `key`. */
export async function detachedSignature(release: Uint8Array, key: AptRepoKey): Promise<string> {
  const message = await openpgp.createMessage({ binary: release })
  return openpgp.sign({ message, signingKeys: key.privateKey, detached: true, format: 'armored' })
}
