import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { FerryError } from '../../store/index.js'

/** The node's libp2p identity, kept beside the store so the peer ID survives restarts. */
export const PEER_KEY_FILE = 'peer.key'

/** Loads `STORE/peer.key`, creating it (ed25519, mode 0600) on first use. */
export async function loadPeerKey(storeDir: string): Promise<PrivateKey> {
  const path = join(storeDir, PEER_KEY_FILE)
  if (existsSync(path)) {
    try {
      return privateKeyFromProtobuf(await readFile(path))
    } catch (cause) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${path} is not a libp2p private key; move it away to make a new identity`,
        { cause },
      )
    }
  }
  const key = await generateKeyPair('Ed25519')
  const partial = `${path}.partial`
  await writeFile(partial, privateKeyToProtobuf(key), { mode: 0o600 })
  await rename(partial, path)
  return key
}
