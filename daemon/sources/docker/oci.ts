/** The OCI image forms an engine's image is given in: config, layers, a generated manifest. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
/** An uncompressed layer: its digest is its diff ID. */
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar'

/** A gzip-compressed layer (as a registry serves it; engines with the containerd image store save them so). */
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd'

/** How a layer of this media type is compressed, when it is. */
export function compressionOf(mediaType: string | undefined): 'gzip' | 'zstd' | undefined {
  if (mediaType === OCI_LAYER_GZIP || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip')
    return 'gzip'
  return mediaType === OCI_LAYER_ZSTD ? 'zstd' : undefined
}

/** An OCI content descriptor, with the fields ferry writes (in this order). */
export interface Descriptor {
  mediaType: string
  digest: string
  size: number
}

/** What ferry reads of an image config. */
export interface ImageConfig {
  /** `os/architecture[/variant]`. */
  platform: string
  /** `rootfs.diff_ids`: `sha256:…` of each uncompressed layer, in order. */
  diffIds: string[]
}

/** `os/architecture[/variant]` of a config, or of an index's platform object; '' when it says none. */
export function platformOf(value: unknown): string {
  const p = value as { os?: unknown; architecture?: unknown; variant?: unknown } | null
  if (typeof p?.os !== 'string' || typeof p.architecture !== 'string') return ''
  return [
    p.os,
    p.architecture,
    ...(typeof p.variant === 'string' && p.variant !== '' ? [p.variant] : []),
  ].join('/')
}

/** Parses an image config's bytes; throws an `Error` saying what is missing. */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const config = JSON.parse(Buffer.from(bytes).toString('utf8')) as { rootfs?: { diff_ids?: unknown } }
  const diffIds = config?.rootfs?.diff_ids
  if (
    !Array.isArray(diffIds) ||
    !diffIds.every((d) => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d))
  )
    throw new Error('the image config has no rootfs.diff_ids')
  const platform = platformOf(config)
  if (platform === '') throw new Error('the image config names no os and architecture')
  return { platform, diffIds }
}

/**
 * The OCI image manifest of a config and its layers: compact JSON with a fixed
 * key order, so the same image always gives the same bytes and digest.
 */
export function ociManifest(config: Descriptor, layers: Descriptor[]): Uint8Array {
  const descriptor = (d: Descriptor) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size })
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(config),
    layers: layers.map(descriptor),
  }
  return new TextEncoder().encode(JSON.stringify(manifest))
}
