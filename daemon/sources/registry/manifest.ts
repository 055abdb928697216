import * as v from 'valibot'
import { FerryError } from '../../../store/index.js'
import { formatPlatform, type Platform, platformMatches } from '../image/platform.js'

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'

/** What a manifest request accepts: both index kinds and both manifest kinds (never schema 1). */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ')

const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST])
const MANIFEST_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST])

/** A manifest or index larger than this is refused (the registry's own limit is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

const digest = v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/, 'must be a sha256 digest'))

const descriptor = v.object({
  mediaType: v.optional(v.string()),
  digest,
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  platform: v.optional(
    v.object({ os: v.string(), architecture: v.string(), variant: v.optional(v.string()) }),
  ),
})

export type Descriptor = v.InferOutput<typeof descriptor>

const indexSchema = v.object({ mediaType: v.optional(v.string()), manifests: v.array(descriptor) })
const manifestSchema = v.object({
  mediaType: v.optional(v.string()),
  config: descriptor,
  layers: v.array(descriptor),
})

/** A parsed manifest document: an index (or list) naming manifests, or one image's manifest. */
export type Parsed =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[] }

/**
 * Parses the bytes of a manifest or index as served with `contentType`
 * (the document's own `mediaType` wins; without either, its shape decides).
 * ERR_PROTOCOL, saying what is wrong, for anything else.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, where: string): Parsed {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch (cause) {
    throw new FerryError('ERR_PROTOCOL', `${where}: the manifest is not JSON`, { cause })
  }
  const stated = (json as { mediaType?: unknown })?.mediaType
  const served = contentType?.split(';')[0].trim()
  let mediaType = typeof stated === 'string' ? stated : served
  if (mediaType === undefined || !(INDEX_TYPES.has(mediaType) || MANIFEST_TYPES.has(mediaType)))
    mediaType = Array.isArray((json as { manifests?: unknown })?.manifests)
      ? OCI_INDEX
      : (mediaType ?? OCI_MANIFEST)
  if (INDEX_TYPES.has(mediaType)) {
    const parsed = v.safeParse(indexSchema, json)
    if (!parsed.success) throw outOfShape(where, 'index', parsed.issues)
    return { kind: 'index', mediaType, manifests: parsed.output.manifests }
  }
  if (!MANIFEST_TYPES.has(mediaType))
    throw new FerryError(
      'ERR_PROTOCOL',
      `${where}: the registry served a ${mediaType}, which ferry does not take (it takes OCI and Docker v2 manifests and indexes)`,
      { details: { mediaType } },
    )
  const parsed = v.safeParse(manifestSchema, json)
  if (!parsed.success) throw outOfShape(where, 'manifest', parsed.issues)
  return { kind: 'manifest', mediaType, config: parsed.output.config, layers: parsed.output.layers }
}

function outOfShape(where: string, what: string, issues: v.BaseIssue<unknown>[]): FerryError {
  const issue = issues[0]
  const path = (issue.path ?? []).map((item) => item.key).join('.')
  return new FerryError(
    'ERR_PROTOCOL',
    `${where}: the ${what} is out of shape: ${path || '(top)'}: ${issue.message}`,
  )
}

/** Whether a descriptor in an index names an image manifest (not a nested index). */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === undefined || MANIFEST_TYPES.has(mediaType)
}

/**
 * The manifest of an index that serves `wanted`; ERR_PLATFORM_NOT_FOUND
 * listing the platforms the index has.
 */
export function selectPlatform(manifests: Descriptor[], wanted: Platform, where: string): Descriptor {
  const found = manifests.find((m) => isManifestType(m.mediaType) && platformMatches(wanted, m.platform))
  if (found !== undefined) return found
  const there = [...new Set(manifests.map((m) => formatPlatform(m.platform)))]
  throw new FerryError(
    'ERR_PLATFORM_NOT_FOUND',
    `${where}: no manifest for ${formatPlatform(wanted)}; the index has ${there.join(', ') || 'none'}`,
    { details: { platform: formatPlatform(wanted), platforms: there } },
  )
}
