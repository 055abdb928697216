import {
  type Entry,
  FerryError,
  type ImageBlob,
  type ImageEntry,
  ingestStream,
} from '../../../store/index.js'
import { parsePlatform, platformMatches } from '../image/platform.js'
import { type ImageReference, parseReference } from '../image/reference.js'
import type { RequirementItem } from '../index.js'
import { keepArtefacts } from '../keep.js'
import { type EngineImage, engineProblem } from './engine.js'
import { type ImageParts, partsFromSave } from './from-save.js'
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, ociManifest, parseImageConfig } from './oci.js'
import { heldPart, type Part, type Run, readPart, reportHeld } from './parts.js'

export type ImageItem = Extract<RequirementItem, { kind: 'image' }>

/** `file: field: ref`, how every message about an item begins. */
function whereOf(item: ImageItem): string {
  return `${item.file}: ${item.field}: ${item.requirement.ref}`
}

/** Gives an error the item it is about: its message begins with it, its details name it. */
function aboutItem(item: ImageItem, err: FerryError): FerryError {
  const { file, field } = item
  return new FerryError(err.code, `${whereOf(item)}: ${err.message}`, {
    cause: err,
    details: { ...err.details, file, field, ref: item.requirement.ref },
  })
}

/** What the engine says of the image; an engine that does not answer or lacks it, as ferry errors. */
async function inspect(run: Run, item: ImageItem): Promise<EngineImage> {
  try {
    return await run.engine.inspect(item.requirement.ref)
  } catch (err) {
    throw engineError(run, err, 'inspect')
  }
}

function engineError(run: Run, err: unknown, doing: string): FerryError {
  const problem = engineProblem(err)
  const why = (err as Error).message
  if (problem === 'unreachable') {
    return new FerryError(
      'ERR_UNREACHABLE',
      `no Docker engine answers at ${run.engine.host} (set DOCKER_HOST or the Docker host setting): ${why}`,
      { cause: err, details: { dockerHost: run.engine.host } },
    )
  }
  if (problem === 'not-found') {
    return new FerryError('ERR_NOT_FOUND', `the Docker engine at ${run.engine.host} has no such image`, {
      cause: err,
      details: { dockerHost: run.engine.host },
    })
  }
  const status = (err as { statusCode?: number }).statusCode
  return new FerryError(
    'ERR_HTTP',
    `the Docker engine at ${run.engine.host} failed to ${doing} the image: ${why}`,
    {
      cause: err,
      details: { dockerHost: run.engine.host, ...(status === undefined ? {} : { status }) },
    },
  )
}

/** The image's parts when the store holds its config and every layer already: nothing to save. */
async function partsFromStore(
  run: Run,
  image: EngineImage,
  labelOf: (what: string) => string,
  signal: AbortSignal,
): Promise<ImageParts | undefined> {
  const idHex = /^sha256:([0-9a-f]{64})$/.exec(image.id)?.[1]
  const config = idHex === undefined ? undefined : await heldPart(run, idHex)
  if (config === undefined) return undefined
  const layers: Part[] = []
  for (const diffId of image.diffIds) {
    const layer = await heldPart(run, diffId.replace(/^sha256:/, ''))
    if (layer === undefined) return undefined
    layers.push(layer)
  }
  const configBytes = await readPart(run, config, signal)
  let parsed: ReturnType<typeof parseImageConfig>
  try {
    parsed = parseImageConfig(configBytes)
  } catch {
    // The ID names something else the store holds (an engine whose IDs are manifest digests).
    return undefined
  }
  if (parsed.diffIds.join() !== image.diffIds.join()) return undefined
  reportHeld(run, labelOf(image.id), config)
  for (const [i, layer] of layers.entries()) reportHeld(run, labelOf(image.diffIds[i]), layer)
  return { config, configBytes, parsed, layers, layerTypes: layers.map(() => OCI_LAYER_TAR) }
}

/** The sizes of the image's layers that the store holds. */
async function heldLayerSizes(run: Run, image: EngineImage): Promise<Set<number>> {
  const sizes = new Set<number>()
  for (const diffId of image.diffIds) {
    const held = await heldPart(run, diffId.replace(/^sha256:/, ''))
    if (held !== undefined) sizes.add(held.size)
  }
  return sizes
}

/** The entry: the OCI manifest generated over the parts, put in the store as the entry's root. */
async function imageEntry(
  run: Run,
  item: ImageItem,
  ref: ImageReference,
  parts: ImageParts,
  signal: AbortSignal,
): Promise<Entry> {
  const config = { mediaType: OCI_CONFIG, digest: `sha256:${parts.config.sha256}`, size: parts.config.size }
  const layers = parts.layers.map((layer, i) => ({
    mediaType: parts.layerTypes[i],
    digest: `sha256:${layer.sha256}`,
    size: layer.size,
  }))
  const manifest = await ingestStream(run.ctx.store.pipeline, [ociManifest(config, layers)], {
    signal,
    deferCommit: true,
  })
  const blobs = new Map<string, ImageBlob>()
  blobs.set(config.digest, { ...config, root: parts.config.root })
  for (const [i, layer] of layers.entries()) blobs.set(layer.digest, { ...layer, root: parts.layers[i].root })
  // Verified: kept for the next run even if this download fails later.
  const artefacts = [parts.config, ...parts.layers].map(({ sha256, size, root }) => ({ sha256, size, root }))
  await keepArtefacts(run.ctx.store, [...artefacts, manifest])
  const entry: ImageEntry = {
    kind: 'image',
    module: item.module,
    name: ref.name,
    size: manifest.size,
    sha256: manifest.sha256,
    root: manifest.root,
    ref: item.requirement.ref,
    repository: ref.repository,
    ...(ref.tag === undefined ? {} : { tag: ref.tag }),
    platform: parts.parsed.platform,
    digest: `sha256:${manifest.sha256}`,
    mediaType: OCI_MANIFEST,
    blobs: [...blobs.values()],
  }
  return entry as unknown as Entry
}

/**
 * One `from: docker` image: asks the engine about it, takes it from the store
 * when every blob is there already, else reads one `docker save` of it (within
 * the download's parallelism), and returns its entry in OCI form.
 */
export async function fetchImage(run: Run, item: ImageItem, signal: AbortSignal): Promise<Entry> {
  try {
    const ref: ImageReference = parseReference(item.requirement.ref)
    const labelOf = (what: string) => `${item.module}/${ref.name} ${what}`
    const platform = item.requirement.platform ?? run.ctx.settings.platform
    const image = await inspect(run, item)
    // An engine holds one platform of an image: `all` (keep every platform) is the one it has.
    if (platform !== 'all' && !platformMatches(parsePlatform(platform), parsePlatform(image.platform))) {
      throw new FerryError(
        'ERR_PLATFORM_NOT_FOUND',
        `the engine's image is ${image.platform}, not ${platform}`,
        {
          details: { platform: image.platform, wanted: platform },
        },
      )
    }
    let parts = await partsFromStore(run, image, labelOf, signal)
    if (parts === undefined) {
      // By ID: the tag cannot move to another image between the inspect and the save.
      const save = () =>
        run.engine.save(image.id, signal).catch((err) => {
          signal.throwIfAborted()
          throw engineError(run, err, 'save')
        })
      const heldSizes = await heldLayerSizes(run, image)
      parts = await partsFromSave(run, { save, labelOf, platform, heldSizes, signal })
      if (parts.parsed.diffIds.join() !== image.diffIds.join()) {
        throw new FerryError('ERR_DIGEST_MISMATCH', `the save's layers are not those the engine described`, {
          details: { saved: parts.parsed.diffIds, described: image.diffIds },
        })
      }
    }
    return await imageEntry(run, item, ref, parts, signal)
  } catch (err) {
    signal.throwIfAborted()
    throw err instanceof FerryError ? aboutItem(item, err) : err
  }
}
