import { readFile, writeFile } from 'node:fs/promises'
import { generateKey } from '@libp2p/pnet'
import { FerryError } from '../../store/index.js'

/** A pnet swarm key file is about 95 bytes: `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits. */
const SWARM_KEY_BYTES = 95

/** Writes a new cluster secret (libp2p pnet swarm key) to `path`, readable by its owner only. */
export async function writeClusterSecret(path: string): Promise<void> {
  const key = new Uint8Array(SWARM_KEY_BYTES)
  generateKey(key)
  await writeFile(path, key, { mode: 0o600, flag: 'wx' }).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'EEXIST')
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${path} already exists; a new secret would lock out every node that has the old one`,
        { cause },
      )
    throw cause
  })
}

/** Reads a cluster secret written by `ferry secret gen`, checking its shape. */
export async function readClusterSecret(path: string): Promise<Uint8Array> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (cause) {
    throw new FerryError(
      'ERR_NOT_FOUND',
      `cluster secret ${path} can't be read: ${(cause as Error).message}`,
      { cause },
    )
  }
  const lines = bytes.toString('utf8').trim().split(/\r?\n/)
  if (
    lines[0] !== '/key/swarm/psk/1.0.0/' ||
    lines[1] !== '/base16/' ||
    !/^[0-9a-f]{64}$/i.test(lines[2] ?? '')
  )
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${path} is not a cluster secret (make one with: ferry secret gen --out FILE)`,
    )
  return new Uint8Array(bytes)
}
