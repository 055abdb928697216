import { createHash } from 'node:crypto'
import { FerryError, type ImageBlob, type ImageEntry } from '../../../store/index.js'
import { formatPlatform, type Platform, parsePlatform, platformMatches } from '../image/platform.js'
import type { ImageReference } from '../image/reference.js'
import type { ImageRequirement, SourceContext } from '../index.js'
import { keepArtefacts } from '../keep.js'
import { heldArtefact, hexOf, ingestVerified, keeping, readHeld, type Stored } from './blobs.js'
import type { RegistryClient } from './client.js'
import { type Descriptor, isManifestType, type Parsed, parseManifest, selectPlatform } from './manifest.js'

/** A manifest or index as served (or held), checked against its digest. */
interface Served {
  digest: string
  bytes: Uint8Array
  parsed: Parsed
  /** Where the store holds it, when it does. */
  held?: Stored
}

/** A manifest or index, checked and in the store. */
interface Document extends Stored {
  digest: string
  parsed: Parsed
}

/** Blob digest → its fetch (with the bytes of a config). */
export type SharedBlobs = Map<string, Promise<Stored & { bytes?: Uint8Array }>>

/** An image's manifest with its config and layers in the store. */
interface Image {
  manifest: Document
  blobs: ImageBlob[]
  platform: string
}

const CONFIG_MAX_BYTES = 1024 * 1024

/**
 * Pulls an image into a store: manifests checked against the
 * digests asked for or announced, each blob fetched once (however many
 * images share it) and only when the store lacks it, through the shared
 * transfer limit. Each is kept as soon as it is verified, so a re-run after
 * a failure does not fetch it again.
 */
export class ImagePuller {
  constructor(
    private readonly ctx: SourceContext,
    private readonly signal: AbortSignal,
    /** Blob digest → the fetch of that blob, shared by every image of the download that names it. */
    private readonly blobs: SharedBlobs,
  ) {}

  /** Keeps a verified manifest or blob for the next run, whatever happens to this one. */
  private keep(digest: string, stored: Stored): Promise<void> {
    return keepArtefacts(this.ctx.store, [{ sha256: hexOf(digest), root: stored.root, size: stored.size }])
  }

  /** The entry for `requirement` of `module`, fetched from `client`. */
  async image(
    module: string,
    requirement: ImageRequirement,
    ref: ImageReference,
    client: RegistryClient,
  ): Promise<ImageEntry> {
    const platformText = requirement.platform ?? this.ctx.settings.platform
    const top = await this.document(client, ref, ref.manifestRef)
    let kept: Document
    let manifests: ImageBlob[] | undefined
    let blobs: ImageBlob[]
    let platform: string
    if (top.parsed.kind === 'manifest') {
      const wanted = platformText === 'all' ? undefined : parsePlatform(platformText)
      kept = await this.keepDocument(ref, top)
      ;({ blobs, platform } = await this.manifestBlobs(client, ref, kept, wanted))
    } else if (platformText === 'all') {
      kept = await this.keepDocument(ref, top)
      const children = top.parsed.manifests.filter((m) => isManifestType(m.mediaType))
      const images = await Promise.all(
        children.map(async (child) => {
          const doc = await this.keepDocument(ref, await this.document(client, ref, child.digest, child))
          return this.manifestBlobs(client, ref, doc, undefined, formatPlatform(child.platform))
        }),
      )
      manifests = images.map((image, i) => ({
        ...blobOf(children[i], image.manifest),
        platform: image.platform,
      }))
      blobs = unique(images.flatMap((image) => image.blobs))
      platform = 'all'
    } else {
      // The index itself is not kept: the entry is the manifest it names for this platform.
      const chosen = selectPlatform(top.parsed.manifests, parsePlatform(platformText), `index ${top.digest}`)
      kept = await this.keepDocument(ref, await this.document(client, ref, chosen.digest, chosen))
      ;({ blobs } = await this.manifestBlobs(client, ref, kept, undefined))
      platform = formatPlatform(chosen.platform)
    }
    return {
      kind: 'image',
      module,
      name: ref.name,
      size: kept.size,
      sha256: kept.digest.slice('sha256:'.length),
      root: kept.root,
      ref: requirement.ref,
      repository: ref.repository,
      ...(ref.tag === undefined ? {} : { tag: ref.tag }),
      platform,
      digest: kept.digest,
      mediaType: kept.parsed.mediaType,
      ...(manifests === undefined ? {} : { manifests }),
      blobs,
    }
  }

  /**
   * A manifest's config, then its layers (in parallel). The config says the
   * image's platform: one that is not `wanted` is ERR_PLATFORM_NOT_FOUND
   * before a layer is fetched.
   */
  private async manifestBlobs(
    client: RegistryClient,
    ref: ImageReference,
    doc: Document,
    wanted: Platform | undefined,
    stated?: string,
  ): Promise<Image> {
    if (doc.parsed.kind !== 'manifest')
      throw new FerryError(
        'ERR_PROTOCOL',
        `${ref.name}: ${doc.digest} is an index inside an index, which ferry does not take`,
      )
    const { config, layers } = doc.parsed
    const configBlob = await this.blob(client, ref, config, true)
    const own = configPlatform(configBlob.bytes)
    if (wanted !== undefined && own !== undefined && !platformMatches(wanted, own))
      throw new FerryError(
        'ERR_PLATFORM_NOT_FOUND',
        `${ref.name}: the image is for ${formatPlatform(own)} only, not ${formatPlatform(wanted)}`,
        { details: { platform: formatPlatform(wanted), platforms: [formatPlatform(own)] } },
      )
    const layerBlobs = await Promise.all(layers.map((layer) => this.blob(client, ref, layer)))
    const platform = stated ?? (own === undefined ? formatPlatform(wanted) : formatPlatform(own))
    return { manifest: doc, blobs: unique([configBlob.blob, ...layerBlobs.map((b) => b.blob)]), platform }
  }

  /**
   * Manifest or index `reference` (a tag or digest), checked: its bytes must
   * have the digest asked for, else the one the registry announces
   * (`Docker-Content-Digest`), and the size `expected` says. Read from the
   * store when it is asked by digest and held there. Not stored here: an
   * index resolved to one platform is not kept.
   */
  private async document(
    client: RegistryClient,
    ref: ImageReference,
    reference: string,
    expected?: Descriptor,
  ): Promise<Served> {
    const where = `${ref.repository}@${reference}`
    const byDigest = reference.startsWith('sha256:') ? reference : undefined
    const held = byDigest === undefined ? undefined : await heldArtefact(this.ctx.store, byDigest)
    if (held !== undefined && byDigest !== undefined) {
      const bytes = await readHeld(this.ctx.store, held, this.signal)
      return { digest: byDigest, bytes, held, parsed: parseManifest(bytes, expected?.mediaType, where) }
    }
    const served = await this.ctx.limit(() => client.manifest(ref.path, reference, this.signal))
    const digest = `sha256:${createHash('sha256').update(served.bytes).digest('hex')}`
    const announced = byDigest ?? served.digest
    if (announced !== undefined && !matchesDigest(served.bytes, digest, announced))
      throw new FerryError(
        'ERR_DIGEST_MISMATCH',
        `${where}: the manifest served has digest ${digest}, not ${announced}`,
        { details: { expected: announced, actual: digest } },
      )
    if (expected !== undefined && expected.size !== served.bytes.byteLength)
      throw new FerryError(
        'ERR_DIGEST_MISMATCH',
        `${where}: the manifest served is ${served.bytes.byteLength} bytes, the index says ${expected.size}`,
        { details: { expected: expected.size, actual: served.bytes.byteLength } },
      )
    const parsed = parseManifest(served.bytes, served.contentType ?? expected?.mediaType, where)
    return { digest, bytes: served.bytes, parsed }
  }

  /** A checked manifest or index in the store: held already (by its digest), or stored and kept now. */
  private async keepDocument(ref: ImageReference, served: Served): Promise<Document> {
    const { digest, parsed } = served
    const progress = this.ctx.progress(`${ref.repository} manifest ${digest}`)
    const held = served.held ?? (await heldArtefact(this.ctx.store, digest))
    if (held !== undefined) {
      progress.finish('held', held.size)
      return { ...held, digest, parsed }
    }
    const where = `${ref.repository}@${digest}`
    const stored = await ingestVerified(
      this.ctx.store,
      [served.bytes],
      { digest, what: where },
      progress,
      this.signal,
    )
    await this.keep(digest, stored)
    progress.finish('fetched', stored.size)
    return { ...stored, digest, parsed }
  }

  /**
   * Blob `descriptor`, from the store when held, else fetched (once per
   * pull, whoever else names it); with its bytes when `small` (a config up
   * to CONFIG_MAX_BYTES).
   */
  private async blob(
    client: RegistryClient,
    ref: ImageReference,
    descriptor: Descriptor,
    small = false,
  ): Promise<{ blob: ImageBlob; bytes?: Uint8Array }> {
    let fetching = this.blobs.get(descriptor.digest)
    if (fetching === undefined) {
      fetching = this.fetchBlob(client, ref, descriptor, small && descriptor.size <= CONFIG_MAX_BYTES)
      this.blobs.set(descriptor.digest, fetching)
    }
    const stored = await fetching
    return { blob: blobOf(descriptor, stored), bytes: stored.bytes }
  }

  private async fetchBlob(
    client: RegistryClient,
    ref: ImageReference,
    descriptor: Descriptor,
    keep: boolean,
  ): Promise<Stored & { bytes?: Uint8Array }> {
    const { digest, size } = descriptor
    const progress = this.ctx.progress(`${ref.repository} blob ${digest}`)
    const held = await heldArtefact(this.ctx.store, digest)
    if (held !== undefined) {
      progress.finish('held', held.size)
      return keep ? { ...held, bytes: await readHeld(this.ctx.store, held, this.signal) } : held
    }
    return this.ctx.limit(async () => {
      this.signal.throwIfAborted()
      const what = `${ref.repository}@${digest}`
      const kept: Uint8Array[] = []
      const served = client.blob(ref.path, digest, size, this.signal)
      const chunks = keep ? keeping(served, kept) : served
      const stored = await ingestVerified(
        this.ctx.store,
        chunks,
        { digest, size, what },
        progress,
        this.signal,
      )
      await this.keep(digest, stored)
      progress.finish('fetched', stored.size)
      return keep ? { ...stored, bytes: new Uint8Array(Buffer.concat(kept)) } : stored
    })
  }
}

/** The `os`, `architecture` and `variant` an image config states, when it is JSON that has them. */
function configPlatform(bytes: Uint8Array | undefined): Platform | undefined {
  if (bytes === undefined) return undefined
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof json?.os !== 'string' || typeof json?.architecture !== 'string') return undefined
    const variant = typeof json.variant === 'string' ? { variant: json.variant } : {}
    return { os: json.os, architecture: json.architecture, ...variant }
  } catch {
    return undefined
  }
}

/** Whether `bytes` (whose sha256 digest is `sha256`) have the digest `announced` (sha256 or sha512). */
function matchesDigest(bytes: Uint8Array, sha256: string, announced: string): boolean {
  if (announced.startsWith('sha512:'))
    return announced === `sha512:${createHash('sha512').update(bytes).digest('hex')}`
  return announced === sha256
}

function blobOf(descriptor: Descriptor, stored: Stored): ImageBlob {
  return {
    digest: descriptor.digest,
    mediaType: descriptor.mediaType ?? 'application/octet-stream',
    size: stored.size,
    root: stored.root,
  }
}

/** Blobs by digest, each once, in first-seen order. */
function unique(blobs: ImageBlob[]): ImageBlob[] {
  const seen = new Map<string, ImageBlob>()
  for (const blob of blobs) if (!seen.has(blob.digest)) seen.set(blob.digest, blob)
  return [...seen.values()]
}
