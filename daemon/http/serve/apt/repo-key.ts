/**
 * The apt repository key: an OpenPGP key (EdDSA, v4, which apt's gpgv
 * verifies) the store makes on first use and keeps in `STORE/apt-repo.key`
 * (armored, unencrypted, mode 0600, beside `publisher.key`). Cluster
 * machines trust it with `signed-by=`; `ferry apt-key` prints its public half.
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as openpgp from 'openpgp'
import { FerryError } from '../../../../store/index.js'

/** The key file's name in the store folder. */
export const APT_KEY_FILE = 'apt-repo.key'

/** The repository key, loaded. */
export interface AptRepoKey {
  privateKey: openpgp.PrivateKey
  /** The public key, ASCII-armored (for a `.asc` keyring file). */
  armored: string
  /** The public key, binary (for a `.gpg` keyring file). */
  binary: Uint8Array
  /** Upper-case hex fingerprint, as `gpg --show-keys` prints it. */
  fingerprint: string
}

/** One load (or creation) per store folder and process. */
const loaded = new Map<string, Promise<AptRepoKey>>()

/**
 * The repository key of the store at `storeDir`: read from its key file, or
 * made and written there when there is none. Two processes making it at once
 * keep the first one written (the file is linked into place, never replaced).
 */
export function aptRepoKey(storeDir: string): Promise<AptRepoKey> {
  let pending = loaded.get(storeDir)
  if (pending === undefined) {
    pending = loadOrCreate(join(storeDir, APT_KEY_FILE))
    pending.catch(() => loaded.delete(storeDir))
    loaded.set(storeDir, pending)
  }
  return pending
}

async function loadOrCreate(file: string): Promise<AptRepoKey> {
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (existing !== undefined) return fromArmored(existing, file)
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    // A signing key only: apt verifies, nobody encrypts to it.
    subkeys: [],
    userIDs: [{ name: 'ferry apt repository' }],
    format: 'armored',
  })
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    await writeFile(temp, privateKey, { mode: 0o600, flag: 'wx' })
    await chmod(temp, 0o600)
    await link(temp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    })
  } finally {
    await rm(temp, { force: true })
  }
  return fromArmored(await readFile(file, 'utf8'), file)
}

async function fromArmored(armored: string, file: string): Promise<AptRepoKey> {
  let privateKey: openpgp.PrivateKey
  try {
    privateKey = await openpgp.readPrivateKey({ armoredKey: armored })
  } catch (cause) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${file} is not an OpenPGP private key: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
  const publicKey = privateKey.toPublic()
  return {
    privateKey,
    armored: publicKey.armor(),
    binary: publicKey.write(),
    fingerprint: publicKey.getFingerprint().toUpperCase(),
  }
}
