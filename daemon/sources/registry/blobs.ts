import { type CID, FerryError, ingestStream, readFile, type Store } from '../../../store/index.js'
import type { ArtefactProgress } from '../index.js'

/** Content stored whole: its file DAG and size. */
export interface Stored {
  root: CID
  size: number
}

/** The hex of a `sha256:` digest. */
export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length)
}

/**
 * Streams `chunks` into the store and checks that what arrived is `digest`
 * and `size` bytes, as the bytes go by (ingest hashes them whole): ERR_DIGEST_MISMATCH,
 * or ERR_TRUNCATED for a wrong length. Blocks stored before a mismatch stay
 * (gc takes them); nothing names them.
 */
export async function ingestVerified(
  store: Store,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  expected: { digest: string; size?: number; what: string },
  progress: ArtefactProgress,
  signal: AbortSignal,
): Promise<Stored> {
  const result = await ingestStream(store.pipeline, chunks, {
    signal,
    deferCommit: true,
    onProgress: (done) => progress.update(done, expected.size),
  })
  if (`sha256:${result.sha256}` !== expected.digest)
    throw new FerryError(
      'ERR_DIGEST_MISMATCH',
      `${expected.what}: the bytes served have digest sha256:${result.sha256}, not ${expected.digest}`,
      { details: { expected: expected.digest, actual: `sha256:${result.sha256}` } },
    )
  if (expected.size !== undefined && result.size !== expected.size)
    throw new FerryError(
      'ERR_TRUNCATED',
      `${expected.what}: ${result.size} bytes served, the manifest says ${expected.size}`,
      { details: { expected: expected.size, actual: result.size } },
    )
  return { root: result.root, size: result.size }
}

/**
 * `chunks`, with a copy of them kept in `into` (for a small blob read after
 * it is stored: what is stored is not readable before the store's flush).
 */
export async function* keeping(
  chunks: AsyncIterable<Uint8Array>,
  into: Uint8Array[],
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    into.push(chunk.slice())
    yield chunk
  }
}

/** The artefact with this digest when the store holds all of it. */
export async function heldArtefact(store: Store, digest: string): Promise<Stored | undefined> {
  const found = await store.artefacts.find(hexOf(digest))
  return found === undefined ? undefined : { root: found.root, size: found.size }
}

/** Reads a small artefact (a manifest) held in the store back into memory. */
export async function readHeld(store: Store, stored: Stored, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of readFile(store.blocks, stored.root, { signal })) chunks.push(chunk)
  return new Uint8Array(Buffer.concat(chunks))
}
