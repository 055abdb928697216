import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'

/*
 * Synthetic `docker save` archives for the save parser's unit tests: the
 * legacy docker-archive layout that Debian's engine 20.10 writes, and the OCI
 * layout of engines ≥ 25, with entries in the sorted order a save has.
 */

export const sha256hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** An image to save: its layers' bytes, in order (a layer may repeat). */
export interface SyntheticImage {
  layers: Uint8Array[]
  platform?: { os: string; architecture: string; variant?: string }
}

/** The config JSON an engine would give this image (rootfs.diff_ids over the layers, or `diffIds`). */
export function imageConfig(image: SyntheticImage, diffIds?: string[]): Uint8Array {
  const config = {
    architecture: image.platform?.architecture ?? 'amd64',
    ...(image.platform?.variant === undefined ? {} : { variant: image.platform.variant }),
    config: { Cmd: ['/bin/sh'] },
    created: '2026-12-04T00:00:00Z',
    os: image.platform?.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds ?? image.layers.map((l) => `sha256:${sha256hex(l)}`) },
  }
  return new TextEncoder().encode(JSON.stringify(config))
}

type TarFile = { name: string; bytes?: Uint8Array; linkname?: string }

/** A tar of `files` in the order given (directories implied). */
export async function tarOf(files: TarFile[]): Promise<Uint8Array> {
  const pack = tar.pack()
  for (const file of files) {
    if (file.linkname !== undefined) pack.entry({ name: file.name, type: 'symlink', linkname: file.linkname })
    else pack.entry({ name: file.name, size: file.bytes!.byteLength }, Buffer.from(file.bytes!))
  }
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const byName = (a: TarFile, b: TarFile) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/**
 * The legacy layout: `<v1id>/{VERSION,json,layer.tar}` a layer (a repeated
 * layer's `layer.tar` a symlink to the first), `<config hex>.json`,
 * `manifest.json`, `repositories`, all in sorted order as 20.10 writes them.
 */
export async function legacySave(image: SyntheticImage, config = imageConfig(image)): Promise<Uint8Array> {
  const files: TarFile[] = []
  const layerPaths: string[] = []
  const first = new Map<string, string>()
  for (const [i, layer] of image.layers.entries()) {
    const id = sha256hex(new TextEncoder().encode(`v1 ${i} ${sha256hex(layer)}`))
    const path = `${id}/layer.tar`
    layerPaths.push(path)
    files.push({ name: `${id}/VERSION`, bytes: new TextEncoder().encode('1.0') })
    files.push({ name: `${id}/json`, bytes: json({ id }) })
    const earlier = first.get(sha256hex(layer))
    if (earlier === undefined) {
      first.set(sha256hex(layer), path)
      files.push({ name: path, bytes: layer })
    } else files.push({ name: path, linkname: `../${earlier}` })
  }
  const configName = `${sha256hex(config)}.json`
  files.push({ name: configName, bytes: config })
  files.push({
    name: 'manifest.json',
    bytes: json([{ Config: configName, RepoTags: ['ferry/test-module:1.0'], Layers: layerPaths }]),
  })
  files.push({ name: 'repositories', bytes: json({ 'ferry/test-module': { '1.0': 'x' } }) })
  return tarOf(files.sort(byName))
}

/**
 * The OCI layout: `blobs/sha256/*` (config, layers, manifest), `index.json`,
 * `oci-layout`, and (as engines ≥ 25 write it) `manifest.json` unless
 * `manifestJson` is false. `gzip` compresses the layers (as an engine with the
 * containerd image store saves them); `config` replaces the image's config. `corrupt` replaces the bytes of the blob at that
 * layer index, under its old name.
 */
export async function ociSave(
  image: SyntheticImage,
  options: { manifestJson?: boolean; corrupt?: number; gzip?: boolean; config?: Uint8Array } = {},
): Promise<Uint8Array> {
  const config = options.config ?? imageConfig(image)
  const blobs = new Map<string, Uint8Array>()
  const add = (bytes: Uint8Array) => {
    blobs.set(sha256hex(bytes), bytes)
    return { digest: `sha256:${sha256hex(bytes)}`, size: bytes.byteLength }
  }
  const configDesc = add(config)
  const layers = image.layers.map((layer) => ({
    mediaType: `application/vnd.oci.image.layer.v1.tar${options.gzip ? '+gzip' : ''}`,
    ...add(options.gzip ? new Uint8Array(gzipSync(layer)) : layer),
  }))
  const manifest = add(
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
      layers,
    }),
  )
  if (options.corrupt !== undefined) {
    const victim = layers[options.corrupt].digest.slice('sha256:'.length)
    blobs.set(victim, new Uint8Array(blobs.get(victim)!.byteLength).fill(7))
  }
  const files: TarFile[] = [...blobs].map(([hex, bytes]) => ({ name: `blobs/sha256/${hex}`, bytes }))
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }],
  }
  files.push({ name: 'index.json', bytes: json(index) })
  files.push({ name: 'oci-layout', bytes: json({ imageLayoutVersion: '1.0.0' }) })
  if (options.manifestJson !== false) {
    const path = (d: { digest: string }) => `blobs/sha256/${d.digest.slice('sha256:'.length)}`
    files.push({
      name: 'manifest.json',
      bytes: json([
        { Config: path(configDesc), RepoTags: ['ferry/test-module:1.0'], Layers: layers.map(path) },
      ]),
    })
  }
  return tarOf(files.sort(byName))
}
