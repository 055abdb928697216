import { createHash, randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'

/*
 * OCI image layouts built here, from random bytes: images with no internet,
 * for `skopeo copy oci:DIR:TAG docker://…` to push into a test registry.
 */

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: { os: string; architecture: string; variant?: string }
  annotations?: Record<string, string>
}

/** What a layout holds, to compare with what a pull gives. */
export interface BuiltImage {
  /** The top descriptor: the manifest, or the index of a multi-platform image. */
  top: Descriptor
  /** Per platform (`linux/amd64`): its manifest, config and layers. */
  platforms: Map<string, { manifest: Descriptor; config: Descriptor; layers: Descriptor[] }>
  /** Every blob (manifests and index too) by digest. */
  blobs: Map<string, Uint8Array>
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** A tar of `files` (name → bytes), as a layer holds it. */
export async function tarOf(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const pack = tar.pack()
  for (const [name, bytes] of Object.entries(files))
    pack.entry({ name, mode: 0o644, mtime: new Date(0) }, Buffer.from(bytes))
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

class Blobs {
  readonly all = new Map<string, Uint8Array>()
  add(mediaType: string, bytes: Uint8Array): Descriptor {
    const digest = sha256(bytes)
    this.all.set(digest, bytes)
    return { mediaType, digest, size: bytes.byteLength }
  }
  json(mediaType: string, value: unknown): Descriptor {
    return this.add(mediaType, new TextEncoder().encode(JSON.stringify(value)))
  }
}

/** One platform's image: a config and `layers` layers of a few random files each (`layerBytes` a file). */
async function platformImage(blobs: Blobs, platform: string, layers: number, layerBytes: number) {
  const [os, architecture, variant] = platform.split('/')
  const layerDescriptors: Descriptor[] = []
  const diffIds: string[] = []
  for (let i = 0; i < layers; i++) {
    const files: Record<string, Uint8Array> = {}
    for (let f = 0; f < 3; f++) files[`layer${i}/file${f}.bin`] = randomBytes(layerBytes)
    files[`layer${i}/platform.txt`] = new TextEncoder().encode(`${platform}\n`)
    const tarBytes = await tarOf(files)
    diffIds.push(sha256(tarBytes))
    layerDescriptors.push(blobs.add(OCI_LAYER, gzipSync(tarBytes)))
  }
  const config = blobs.json(OCI_CONFIG, {
    architecture,
    os,
    ...(variant === undefined ? {} : { variant }),
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  })
  const manifest = blobs.json(OCI_MANIFEST, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers: layerDescriptors,
  })
  return { manifest, config, layers: layerDescriptors }
}

/**
 * Writes an OCI layout at `dir` holding one image tagged `tag`: one
 * platform's manifest, or an index over several when `platforms` has more
 * than one.
 */
export async function writeOciLayout(
  dir: string,
  tag: string,
  options: { platforms: string[]; layers?: number; layerBytes?: number },
): Promise<BuiltImage> {
  const blobs = new Blobs()
  const platforms: BuiltImage['platforms'] = new Map()
  for (const platform of options.platforms) {
    const image = await platformImage(blobs, platform, options.layers ?? 2, options.layerBytes ?? 40_000)
    const [os, architecture, variant] = platform.split('/')
    image.manifest.platform = { os, architecture, ...(variant === undefined ? {} : { variant }) }
    platforms.set(platform, image)
  }
  let top: Descriptor
  if (options.platforms.length === 1) {
    const { platform: _, ...manifest } = platforms.get(options.platforms[0])!.manifest
    top = manifest
  } else {
    top = blobs.json(OCI_INDEX, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [...platforms.values()].map((p) => p.manifest),
    })
  }
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  for (const [digest, bytes] of blobs.all)
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes)
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  )
  return { top, platforms, blobs: blobs.all }
}
