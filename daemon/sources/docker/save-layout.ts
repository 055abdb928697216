import { FerryError } from '../../../store/index.js'
import { parsePlatform, platformMatches } from '../image/platform.js'
import { platformOf } from './oci.js'
import { archivePath, type SaveContents } from './save-reader.js'

/** Which files of a save are the image: archive paths, links resolved. */
export interface ImageLayout {
  config: string
  /** In the config's `rootfs.diff_ids` order (a layer may repeat). */
  layers: string[]
}

/** Reads a file of the save whole (kept, or back from the store): metadata only. */
export type ReadSaved = (path: string) => Promise<Uint8Array>

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
])

/** The path a link chain ends at (links made by the save: a repeated layer, an OCI blob). */
export function resolveLink(contents: SaveContents, path: string): string {
  let current = path
  for (let hops = 0; hops < 16; hops++) {
    const next = contents.links.get(current)
    if (next === undefined) return current
    current = next
  }
  throw new FerryError('ERR_BAD_ARCHIVE', `the save's links from ${path} go round in circles`)
}

/** Whether the save holds `path` in any form (kept, ingested, or read past as held). */
function holds(contents: SaveContents, path: string): boolean {
  return contents.kept.has(path) || contents.ingested.has(path) || contents.held.has(path)
}

function bad(message: string): FerryError {
  return new FerryError('ERR_BAD_ARCHIVE', `the save ${message}`)
}

async function readJson(read: ReadSaved, path: string): Promise<unknown> {
  try {
    return JSON.parse(Buffer.from(await read(path)).toString('utf8'))
  } catch (err) {
    if (err instanceof FerryError) throw err
    throw bad(`has a ${path} that is not JSON: ${(err as Error).message}`)
  }
}

function blobPath(digest: unknown): string {
  const hex = typeof digest === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1] : undefined
  if (hex === undefined) throw bad(`names a digest that is not sha256: ${String(digest)}`)
  return `blobs/sha256/${hex}`
}

/** From `manifest.json`, which both layouts write (docker-archive; engines ≥ 25 also beside the OCI layout). */
function fromManifestJson(manifest: unknown): { config: string; layers: string[] } {
  const first = Array.isArray(manifest) && manifest.length > 0 ? manifest[0] : undefined
  const config = (first as { Config?: unknown } | undefined)?.Config
  const layers = (first as { Layers?: unknown } | undefined)?.Layers
  if (typeof config !== 'string' || !Array.isArray(layers) || !layers.every((l) => typeof l === 'string'))
    throw bad('has a manifest.json without Config and Layers')
  return { config, layers }
}

/** From an OCI layout's `index.json`: the image manifest for `platform` (through nested indexes). */
async function fromIndexJson(
  read: ReadSaved,
  path: string,
  platform: string,
): Promise<{ config: string; layers: string[]; mediaTypes: string[] }> {
  for (let depth = 0; depth < 4; depth++) {
    const index = (await readJson(read, path)) as { manifests?: unknown }
    const descriptors = Array.isArray(index.manifests)
      ? (index.manifests as Array<{ mediaType?: string; digest?: unknown; platform?: unknown }>)
      : []
    const chosen =
      descriptors.length === 1
        ? descriptors[0]
        : descriptors.find(
            (d) =>
              d.platform !== undefined &&
              platformMatches(parsePlatform(platform), parsePlatform(platformOf(d.platform))),
          )
    if (chosen === undefined) throw bad(`has no manifest for ${platform} in ${path}`)
    path = blobPath(chosen.digest)
    if (INDEX_TYPES.has(chosen.mediaType ?? '')) continue
    const manifest = (await readJson(read, path)) as { config?: { digest?: unknown }; layers?: unknown }
    if (!Array.isArray(manifest.layers)) throw bad(`has a manifest ${path} without layers`)
    const layers = manifest.layers as Array<{ digest?: unknown; mediaType?: unknown }>
    return {
      config: blobPath(manifest.config?.digest),
      layers: layers.map((layer) => blobPath(layer.digest)),
      mediaTypes: layers.map((layer) => String(layer.mediaType ?? '')),
    }
  }
  throw bad('nests indexes too deep')
}

/**
 * The media type an OCI layout's own manifest gives the layer at `path` (an
 * engine with the containerd image store saves layers compressed, as pulled);
 * undefined when the save has no OCI layout or does not say.
 */
export async function layerMediaType(
  contents: SaveContents,
  read: ReadSaved,
  platform: string,
  path: string,
): Promise<string | undefined> {
  if (!holds(contents, 'index.json')) return undefined
  const named = await fromIndexJson(read, 'index.json', platform)
  const at = named.layers.findIndex((layer) => resolveLink(contents, layer) === path)
  return at < 0 ? undefined : named.mediaTypes[at]
}

/**
 * Finds the image in a save: its config and layers, by archive path, from
 * `manifest.json` (either layout), else from an OCI layout's `index.json`.
 * A save that has neither ended before its metadata: `ERR_TRUNCATED`.
 */
export async function imageLayout(
  contents: SaveContents,
  read: ReadSaved,
  platform: string,
): Promise<ImageLayout> {
  let named: { config: string; layers: string[] }
  if (holds(contents, 'manifest.json')) named = fromManifestJson(await readJson(read, 'manifest.json'))
  else if (holds(contents, 'index.json')) named = await fromIndexJson(read, 'index.json', platform)
  else throw new FerryError('ERR_TRUNCATED', 'the save stream ended before its manifest.json or index.json')
  const layout = {
    config: resolveLink(contents, archivePath(named.config)),
    layers: named.layers.map((layer) => resolveLink(contents, archivePath(layer))),
  }
  for (const path of [layout.config, ...layout.layers]) {
    if (!holds(contents, path)) throw bad(`names ${path}, which it does not hold`)
  }
  return layout
}
