import { PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import {
  type CID,
  FerryError,
  type ImageBlob,
  type ImageEntry,
  readFile,
  type Store,
} from '../../store/index.js'
import { formatPlatform, type Platform, platformMatches } from '../sources/image/platform.js'

/** Manifests are small JSON; one larger than this is not read into memory. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

/** What `docker load` will make of the tar {@link saveTar} streams. */
export interface SaveTar {
  /** The tar (`docker save` format), streamed from the store's blocks as it is read. */
  stream: Readable
  /** The image ID the engine will give it: the config's digest. */
  id: string
  /** The tags it is loaded with (manifest.json `RepoTags`): its reference, when it has a tag. */
  tags: string[]
  /** The platform of the manifest loaded. */
  platform: string
  /** Bytes of the blobs in the tar (config and layers). */
  bytes: number
}

interface ImageManifest {
  config: { digest: string }
  layers: Array<{ digest: string }>
}

async function smallBytes(store: Store, root: CID, size: number, what: string): Promise<Buffer> {
  if (size > MAX_MANIFEST_BYTES)
    throw new FerryError('ERR_INVALID_ARGUMENT', `${what} is ${size} bytes: too large for a manifest`)
  const chunks: Uint8Array[] = []
  for await (const chunk of readFile(store.blocks, root)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The manifest to load: the entry's own, or the one of `platform` in a kept index. */
async function manifestOf(store: Store, image: ImageEntry, platform: Platform) {
  let root = image.root
  let size = image.size
  let resolved = image.platform
  if (image.manifests !== undefined) {
    const chosen = image.manifests.find((m) => platformMatches(platform, parsed(m.platform)))
    if (chosen === undefined) {
      const has = image.manifests.map((m) => m.platform ?? 'unknown').join(', ')
      throw new FerryError(
        'ERR_PLATFORM_NOT_FOUND',
        `${image.name} has no manifest for ${formatPlatform(platform)} (it has ${has}): pass --platform`,
        { details: { image: image.name } },
      )
    }
    root = chosen.root
    size = chosen.size
    resolved = chosen.platform ?? formatPlatform(platform)
  }
  const manifest = JSON.parse((await smallBytes(store, root, size, image.name)).toString('utf8'))
  if (typeof manifest?.config?.digest !== 'string' || !Array.isArray(manifest.layers))
    throw new FerryError('ERR_INVALID_ARGUMENT', `${image.name}: its manifest names no config and layers`)
  return { manifest: manifest as ImageManifest, platform: resolved }
}

function parsed(text: string | undefined): Partial<Platform> | undefined {
  if (text === undefined) return undefined
  const [os, architecture, variant] = text.split('/')
  return { os, architecture, variant }
}

const pathOf = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`

/**
 * `docker save`-format tar of `image` for `docker load`: manifest.json (Config,
 * RepoTags, Layers), then the config and each layer once under
 * `blobs/sha256/HEX`, read block by block from the store as the tar is
 * consumed (layers stay as pulled, compressed or not: docker load
 * decompresses them). For an index kept whole, the manifest of `platform`.
 */
export async function saveTar(store: Store, image: ImageEntry, platform: Platform): Promise<SaveTar> {
  const { manifest, platform: resolved } = await manifestOf(store, image, platform)
  const blobs = new Map<string, ImageBlob>(image.blobs.map((b) => [b.digest, b]))
  const digests = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]
  const files: ImageBlob[] = []
  for (const digest of new Set(digests)) {
    const blob = blobs.get(digest)
    if (blob === undefined || !/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new FerryError(
        'ERR_NOT_FOUND',
        `${image.name}: the entry holds no blob ${digest} its manifest names`,
      )
    files.push(blob)
  }
  const tags = image.tag === undefined ? [] : [`${image.repository}:${image.tag}`]
  const index = [
    {
      Config: pathOf(manifest.config.digest),
      RepoTags: tags,
      Layers: manifest.layers.map((l) => pathOf(l.digest)),
    },
  ]
  const pack = tar.pack()
  const out = new PassThrough()
  const fill = async () => {
    pack.entry({ name: 'manifest.json', mtime: new Date(0) }, JSON.stringify(index))
    for (const blob of files) {
      const entry = pack.entry({ name: pathOf(blob.digest), size: blob.size, mtime: new Date(0) })
      await pipeline(readFile(store.blocks, blob.root), entry)
    }
    pack.finalize()
  }
  pack.pipe(out)
  // The engine gone (or the caller stopped): stop reading blocks.
  out.once('close', () => pack.destroy())
  fill().catch((err) => out.destroy(err))
  return {
    stream: out,
    id: manifest.config.digest,
    tags,
    platform: resolved,
    bytes: files.reduce((sum, b) => sum + b.size, 0),
  }
}
