import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto'
import { FerryError } from '../errors.js'

/** Publisher keys are ed25519; a public key travels as one token: `ed25519:` + base64url of its 32 bytes. */
export const TOKEN_PREFIX = 'ed25519:'

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface Publisher {
  privateKey: KeyObject
  publicKey: KeyObject
  token: string
}

export function generatePublisher(): Publisher {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey, token: tokenOf(publicKey) }
}

/** Loads a publisher from its PKCS#8 PEM. */
export function publisherFromPem(pem: string): Publisher {
  const privateKey = createPrivateKey(pem)
  const publicKey = createPublicKey(privateKey)
  return { privateKey, publicKey, token: tokenOf(publicKey) }
}

export function publisherToPem(publisher: Publisher): string {
  return publisher.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

export function tokenOf(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  return TOKEN_PREFIX + spki.subarray(SPKI_ED25519_PREFIX.byteLength).toString('base64url')
}

/** Parses a publisher token; ERR_INVALID_ARGUMENT naming the token when it is not one. */
export function publicKeyFromToken(token: string): KeyObject {
  const raw = token.startsWith(TOKEN_PREFIX)
    ? Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url')
    : undefined
  if (raw === undefined || raw.byteLength !== 32 || tokenOfRaw(raw) !== token) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `'${token}' is not a publisher key token (expected ${TOKEN_PREFIX}<43 base64url chars>)`,
    )
  }
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' })
}

function tokenOfRaw(raw: Buffer): string {
  return TOKEN_PREFIX + raw.toString('base64url')
}

export function signBytes(publisher: Publisher, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, publisher.privateKey))
}

export function verifyBytes(token: string, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, message, publicKeyFromToken(token), signature)
  } catch {
    return false
  }
}
