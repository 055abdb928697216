/**
 * Content negotiation for manifests (`Accept`): which of the stored bytes a
 * client that asks by tag gets. Bytes are never rewritten (their digest is
 * what the source served), so the only choice is between an index and one
 * of the manifests it names.
 */

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'

/**
 * The platform a client that cannot take an index gets from one, as the
 * reference registry (distribution) does for such clients, and the platform
 * `ferry download` resolves images to by default.
 */
export const FALLBACK_PLATFORM = 'linux/amd64'

/** Whether a media type is an index (OCI index or Docker manifest list). */
export function isIndexType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST
}

/** What a client accepts: `any` (no `Accept`, or a wildcard), or the media types it names. */
export type Accepted = 'any' | ReadonlySet<string>

/**
 * Parses `Accept` (one header or several, comma-separated, parameters
 * ignored but `q=0`, which refuses the type): no header, `*∕*` or
 * `application/*` accepts anything.
 */
export function parseAccept(header: string | string[] | undefined): Accepted {
  if (header === undefined) return 'any'
  const items = (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(','))
  const types = new Set<string>()
  for (const item of items) {
    const [type, ...params] = item.split(';').map((p) => p.trim())
    if (type === '') continue
    if (params.some((p) => /^q\s*=\s*0(?:\.0*)?$/i.test(p))) continue
    const lower = type.toLowerCase()
    if (lower === '*/*' || lower === 'application/*') return 'any'
    types.add(lower)
  }
  return types.size === 0 ? 'any' : types
}

/** Whether a client that accepts `accepted` takes `mediaType`. */
export function accepts(accepted: Accepted, mediaType: string): boolean {
  return accepted === 'any' || accepted.has(mediaType)
}

/** The accepted types as a message says them. */
export function describeAccepted(accepted: Accepted): string {
  return accepted === 'any' ? 'any type' : [...accepted].join(', ')
}
