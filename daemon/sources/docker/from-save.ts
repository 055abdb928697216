import type { Readable } from 'node:stream'
import { FerryError } from '../../../store/index.js'
import {
  compressionOf,
  type ImageConfig,
  OCI_LAYER_GZIP,
  OCI_LAYER_TAR,
  OCI_LAYER_ZSTD,
  parseImageConfig,
} from './oci.js'
import { gunzippedSha256, heldPart, ingestPart, type Part, type Run, readPart } from './parts.js'
import { imageLayout, layerMediaType } from './save-layout.js'
import { blobDigestOf, NotHeldAfterAll, readSave, type SaveContents } from './save-reader.js'

/** An image's config and layers, verified and in the store. */
export interface ImageParts {
  config: Part
  configBytes: Uint8Array
  parsed: ImageConfig
  /** In `rootfs.diff_ids` order. */
  layers: Part[]
  /** Each layer's media type (uncompressed OCI tar, or as saved: gzip, zstd). */
  layerTypes: string[]
}

/** The digest a save's path claims for its bytes: an OCI blob's name, a legacy `<hex>.json` config. */
function claimedDigest(path: string): string | undefined {
  return blobDigestOf(path) ?? /^([0-9a-f]{64})\.json$/.exec(path)?.[1]
}

function mismatch(message: string, details: Record<string, unknown>): FerryError {
  return new FerryError('ERR_DIGEST_MISMATCH', message, { details })
}

/**
 * Reads one `docker save` stream (see readSave): ingests what streams past,
 * then finds the image in it, puts its small blobs in the store, and checks
 * every digest: each blob against the name the save gives it (an OCI blob's
 * digest, a legacy config's `<hex>.json`), each layer against the config's
 * `rootfs.diff_ids`.
 */
export interface SaveOptions {
  /** Starts a `docker save` of the image. */
  save: () => Promise<Readable>
  /** A progress label for one blob (`what`: its archive path or digest). */
  labelOf: (what: string) => string
  /** The platform to pick from an OCI index. */
  platform: string
  /** Sizes of the image's layers the store holds: legacy layers of these sizes are hashed, not stored. */
  heldSizes?: ReadonlySet<number>
  signal: AbortSignal
}

export async function partsFromSave(run: Run, options: SaveOptions): Promise<ImageParts> {
  const { labelOf, signal } = options
  const read = async (heldSizes: ReadonlySet<number> | undefined) =>
    readSave(await options.save(), {
      signal,
      heldSizes,
      isHeld: async (sha256) => (await heldPart(run, sha256)) !== undefined,
      ingest: (path, size, bytes) => ingestPart(run, labelOf(path), size, bytes, signal),
    })
  let contents: SaveContents
  try {
    contents = await read(options.heldSizes)
  } catch (err) {
    if (!(err instanceof NotHeldAfterAll)) throw err
    run.ctx.note(`${labelOf(err.path)}: not the held layer of its size; saving the image again`)
    contents = await read(undefined)
  }
  return verifiedParts(run, contents, options)
}

async function verifiedParts(run: Run, contents: SaveContents, options: SaveOptions): Promise<ImageParts> {
  const { labelOf, signal } = options
  const parts = new Map<string, Promise<Part>>()
  // Each path once, however often the image names it.
  const partOf = (path: string): Promise<Part> => {
    let part = parts.get(path)
    if (part === undefined) {
      part = savedPart(run, contents, path, labelOf, signal)
      parts.set(path, part)
    }
    return part
  }
  const readWhole = async (path: string) => {
    const kept = contents.kept.get(path)
    if (kept !== undefined) return kept
    const part = await partOf(path)
    // Ingested with the commit deferred: readable once flushed.
    await run.ctx.store.blocks.flush()
    return readPart(run, part, signal)
  }
  const layout = await imageLayout(contents, readWhole, options.platform)

  const config = await partOf(layout.config)
  const configBytes = await readWhole(layout.config)
  let parsed: ImageConfig
  try {
    parsed = parseImageConfig(configBytes)
  } catch (err) {
    throw new FerryError('ERR_BAD_ARCHIVE', `the save's config ${layout.config}: ${(err as Error).message}`)
  }
  if (parsed.diffIds.length !== layout.layers.length) {
    throw mismatch(
      `the save names ${layout.layers.length} layers, its config's rootfs.diff_ids ${parsed.diffIds.length}`,
      { layers: layout.layers.length, diffIds: parsed.diffIds.length },
    )
  }
  const layers: Part[] = []
  const layerTypes: string[] = []
  for (const [i, path] of layout.layers.entries()) {
    const layer = await partOf(path)
    layers.push(layer)
    const declared = async () => layerMediaType(contents, readWhole, options.platform, path)
    layerTypes.push(
      await checkedLayerType(run, { layer, index: i, path, diffId: parsed.diffIds[i], declared }, options),
    )
  }
  return { config, configBytes, parsed, layers, layerTypes }
}

/**
 * A layer's media type once its content is checked against its diff ID:
 * uncompressed (its digest is the diff ID), gzip (the diff ID of its
 * uncompressed bytes), zstd (not checked: Node 20 has no zstd; noted).
 */
async function checkedLayerType(
  run: Run,
  layer: {
    layer: Part
    index: number
    path: string
    diffId: string
    declared: () => Promise<string | undefined>
  },
  options: SaveOptions,
): Promise<string> {
  const digest = `sha256:${layer.layer.sha256}`
  if (digest === layer.diffId) return OCI_LAYER_TAR
  const compression = compressionOf(await layer.declared())
  if (compression === 'zstd') {
    run.ctx.note(`${options.labelOf(layer.path)}: a zstd layer, its diff_id ${layer.diffId} not checked`)
    return OCI_LAYER_ZSTD
  }
  let unpacked: string | undefined
  if (compression === 'gzip') {
    await run.ctx.store.blocks.flush()
    unpacked = await gunzippedSha256(run, layer.layer, options.signal).catch((err) => {
      options.signal.throwIfAborted()
      return `(not gzip: ${(err as Error).message})`
    })
    if (`sha256:${unpacked}` === layer.diffId) return OCI_LAYER_GZIP
  }
  const actual = unpacked === undefined ? digest : `${digest}, uncompressed sha256:${unpacked}`
  throw mismatch(
    `layer ${layer.index} (${layer.path}) has ${actual}, the config's diff_id is ${layer.diffId}`,
    {
      layer: layer.index,
      actual: digest,
      expected: layer.diffId,
    },
  )
}

/** The blob at `path`, in the store: ingested as it streamed, held, or kept and put there now. */
async function savedPart(
  run: Run,
  contents: SaveContents,
  path: string,
  labelOf: (what: string) => string,
  signal: AbortSignal,
): Promise<Part> {
  let part = contents.ingested.get(path)
  const heldHex = contents.held.get(path)
  if (part === undefined && heldHex !== undefined) part = await heldPart(run, heldHex)
  const kept = contents.kept.get(path)
  if (part === undefined && kept !== undefined)
    part = await ingestPart(run, labelOf(path), kept.byteLength, [kept], signal)
  if (part === undefined)
    throw new FerryError('ERR_BAD_ARCHIVE', `the save names ${path}, which it does not hold`)
  if (heldHex !== undefined) run.ctx.progress(labelOf(path)).finish('held', part.size)
  const claimed = claimedDigest(path)
  if (claimed !== undefined && claimed !== part.sha256) {
    throw mismatch(`${path} has sha256:${part.sha256}`, { path, actual: `sha256:${part.sha256}` })
  }
  return part
}
