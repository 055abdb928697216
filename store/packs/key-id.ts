/** A block's index key (its multihash bytes) as a string, for sets and maps. */
export function keyId(key: Uint8Array): string {
  return Buffer.from(key).toString('base64')
}
