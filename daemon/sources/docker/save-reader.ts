import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { type CID, FerryError } from '../../../store/index.js'

/** A file of the save stream that went into the store as it streamed past. */
export interface SavedFile {
  /** sha256 of its bytes, hex. */
  sha256: string
  size: number
  root: CID
}

/** What a `docker save` stream held, without its layers' bytes. */
export interface SaveContents {
  /** Small files kept whole, by archive path: manifest.json, index.json, configs, small OCI blobs. */
  kept: Map<string, Uint8Array>
  /** Files ingested as they streamed past, by archive path: layers, large OCI blobs. */
  ingested: Map<string, SavedFile>
  /** OCI blobs read past because the store already holds them: archive path → sha256 hex. */
  held: Map<string, string>
  /** Links (symbolic or hard): archive path → the archive path they point to. */
  links: Map<string, string>
}

export interface SaveReaderHooks {
  /** Whether the blob with this sha256 (hex, named by an OCI layout path) need not be read. */
  isHeld(sha256: string): Promise<boolean>
  /**
   * Sizes of layers the store holds (legacy saves name layers by no digest): a
   * `layer.tar` of such a size is only hashed, and read past when held.
   */
  heldSizes?: ReadonlySet<number>
  /** Ingests one file as it streams past; must read `bytes` to its end. */
  ingest(path: string, size: number, bytes: AsyncIterable<Uint8Array>): Promise<SavedFile>
  signal?: AbortSignal
}

/**
 * A legacy layer read past on the strength of its size turned out not to be
 * held: its bytes are gone, so the save must be read again without skipping.
 */
export class NotHeldAfterAll extends Error {
  constructor(readonly path: string) {
    super(`${path} has the size of a layer the store holds, but is another`)
  }
}

/** OCI blobs up to this size are kept in memory until the layout says what they are (JSON, or a tiny layer). */
export const KEEP_BLOB_BYTES = 64 * 1024
/** The largest metadata file (manifest.json, index.json, a legacy config) kept whole. */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024

const OCI_BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/
const LEGACY_LAYER = /^[^/]+\/layer\.tar$/
const METADATA = /^(?:[^/]+\.json|repositories|oci-layout)$/

/** Whether an archive path names a file whose bytes are an OCI blob named by its digest. */
export function blobDigestOf(path: string): string | undefined {
  return OCI_BLOB.exec(path)?.[1]
}

/** `./a/../b` → `b`: archive paths compared as written by any tar. */
export function archivePath(path: string): string {
  return posix
    .normalize(path)
    .replace(/^(?:\.\/)+/, '')
    .replace(/\/$/, '')
}

async function drain(bytes: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of bytes) {
    // read past
  }
}

async function collect(bytes: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of bytes) chunks.push(chunk)
  return new Uint8Array(Buffer.concat(chunks))
}

/**
 * Reads a `docker save` stream once, as it arrives: both the legacy
 * docker-archive layout (`manifest.json`, `<id>/layer.tar`, `<id>.json`) and
 * the OCI layout of engines ≥ 25 (`index.json`, `blobs/sha256/<hex>`). Layers
 * and large blobs go to `hooks.ingest` as they stream past, blobs the store
 * holds are read past (OCI: by name; legacy: by size, then hash; when that
 * guess fails, `NotHeldAfterAll`), and only small metadata files are kept in
 * memory. A stream that fails or stops inside an entry is `ERR_TRUNCATED`.
 */
export async function readSave(source: Readable, hooks: SaveReaderHooks): Promise<SaveContents> {
  const contents: SaveContents = { kept: new Map(), ingested: new Map(), held: new Map(), links: new Map() }
  const extract = tar.extract()
  const piping = pipeline(source, extract, { signal: hooks.signal })
  // Reported by the loop below when it matters; never left unhandled.
  piping.catch(() => {})
  try {
    for await (const entry of extract) {
      const { header } = entry
      const path = archivePath(header.name)
      const size = header.size ?? 0
      if (header.type === 'symlink' || header.type === 'link') {
        const target = header.linkname ?? ''
        const from = header.type === 'symlink' ? posix.dirname(path) : '.'
        contents.links.set(path, archivePath(posix.join(from, target)))
        await drain(entry)
      } else if (header.type !== 'file' && header.type !== 'contiguous-file') {
        await drain(entry)
      } else {
        await readFileEntry(contents, hooks, path, size, entry as AsyncIterable<Uint8Array>)
      }
    }
    await piping
  } catch (err) {
    source.destroy()
    extract.destroy()
    hooks.signal?.throwIfAborted()
    if (err instanceof FerryError || err instanceof NotHeldAfterAll) throw err
    throw new FerryError('ERR_TRUNCATED', `the save stream ended early: ${(err as Error).message}`, {
      cause: err,
    })
  }
  return contents
}

async function readFileEntry(
  contents: SaveContents,
  hooks: SaveReaderHooks,
  path: string,
  size: number,
  bytes: AsyncIterable<Uint8Array>,
): Promise<void> {
  const blob = blobDigestOf(path)
  if (blob !== undefined && (await hooks.isHeld(blob))) {
    contents.held.set(path, blob)
    await drain(bytes)
  } else if (blob !== undefined ? size <= KEEP_BLOB_BYTES : METADATA.test(path)) {
    if (size > MAX_METADATA_BYTES) {
      throw new FerryError('ERR_BAD_ARCHIVE', `the save's ${path} is ${size} bytes: too large for metadata`)
    }
    const kept = await collect(bytes)
    if (kept.byteLength !== size) throw new Error(`${path} is ${kept.byteLength} bytes of ${size}`)
    contents.kept.set(path, kept)
  } else if (blob === undefined && LEGACY_LAYER.test(path) && hooks.heldSizes?.has(size)) {
    const hash = createHash('sha256')
    for await (const chunk of bytes) hash.update(chunk)
    const sha256 = hash.digest('hex')
    if (!(await hooks.isHeld(sha256))) throw new NotHeldAfterAll(path)
    contents.held.set(path, sha256)
  } else if (blob !== undefined || LEGACY_LAYER.test(path)) {
    const saved = await hooks.ingest(path, size, bytes)
    if (saved.size !== size) throw new Error(`${path} is ${saved.size} bytes of ${size}`)
    contents.ingested.set(path, saved)
  } else {
    await drain(bytes)
  }
}
