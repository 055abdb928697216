import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { type CID, ingestStream, readFile } from '../../../store/index.js'
import type { SourceContext } from '../index.js'
import type { Engine } from './engine.js'

/** A blob of an image in the store: config or layer; its OCI digest is `sha256:` + `sha256`. */
export interface Part {
  /** Hex sha256 of its bytes. */
  sha256: string
  size: number
  root: CID
}

/** What the images of one `fetch` call share. */
export interface Run {
  ctx: SourceContext
  engine: Engine
  /** Blobs put in the store by this call (the artefact index learns them only when a release is published). */
  fetched: Map<string, Part>
}

/** The blob with this sha256 when the store holds it whole (or this call has just put it there). */
export async function heldPart(run: Run, sha256: string): Promise<Part | undefined> {
  return run.fetched.get(sha256) ?? (await run.ctx.store.artefacts.find(sha256))
}

/**
 * Ingests one blob as it streams, reporting its progress under `label`; it
 * finishes as `held` when it turns out to be a blob the store already had
 * (a legacy save names layers by no digest, so they are read to know).
 */
export async function ingestPart(
  run: Run,
  label: string,
  size: number,
  bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal: AbortSignal,
): Promise<Part> {
  const progress = run.ctx.progress(label)
  const ingested = await ingestStream(run.ctx.store.pipeline, bytes, {
    signal,
    deferCommit: true,
    onProgress: (done) => progress.update(done, size),
  })
  const part = { sha256: ingested.sha256, size: ingested.size, root: ingested.root }
  const before = await heldPart(run, part.sha256)
  run.fetched.set(part.sha256, part)
  progress.finish(before === undefined ? 'fetched' : 'held', part.size)
  return part
}

/** Reports a blob the store holds as `held` (nothing read). */
export function reportHeld(run: Run, label: string, part: Part): void {
  run.ctx.progress(label).finish('held', part.size)
}

/** A blob's bytes read back from the store (metadata only: configs, manifests). */
export async function readPart(
  run: Run,
  part: Pick<Part, 'root'>,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of readFile(run.ctx.store.blocks, part.root, { signal })) chunks.push(chunk)
  return new Uint8Array(Buffer.concat(chunks))
}

/** The sha256 (hex) of a gzip-compressed blob's uncompressed bytes, read back from the store: its diff ID. */
export async function gunzippedSha256(
  run: Run,
  part: Pick<Part, 'root'>,
  signal: AbortSignal,
): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(
    Readable.from(readFile(run.ctx.store.blocks, part.root, { signal })),
    createGunzip(),
    async (unpacked: AsyncIterable<Buffer>) => {
      for await (const chunk of unpacked) hash.update(chunk)
    },
    { signal },
  )
  return hash.digest('hex')
}
