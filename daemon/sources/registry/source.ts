import { relative } from 'node:path'
import { type Entry, FerryError, isFerryError } from '../../../store/index.js'
import { type ImageReference, parseReference } from '../image/reference.js'
import type { RequirementItem, Source, SourceContext } from '../index.js'
import { allOrNothing } from '../settle.js'
import { RegistryClient } from './client.js'
import { ImagePuller, type SharedBlobs } from './pull.js'
import { loadRegistryAccess, type RegistryAccessList } from './registries-file.js'
import { defaultHttp, type HttpFactory, type RegistryHttp } from './transport.js'

type ImageItem = Extract<RequirementItem, { kind: 'image' }>

export interface RegistrySourceOptions {
  /** Makes the HTTP client of each registry. @default the sources' HttpClient */
  http?: HttpFactory
  /** Docker's config.json, for credentials. @default $DOCKER_CONFIG/config.json, else ~/.docker/config.json */
  dockerConfig?: string
}

/**
 * Images from a registry over the Registry API v2 (`images:` items without
 * `from: docker`): the manifest, or an index resolved to the platform asked
 * for (`platform: all` keeps the index and every manifest it names), and
 * every config and layer, each stored so that its whole sha256 is its OCI
 * digest. Every manifest and blob is checked against its digest as it
 * arrives; what the store holds already is not fetched.
 */
export class RegistrySource implements Source {
  readonly name = 'registry'

  constructor(private readonly options: RegistrySourceOptions = {}) {}

  canHandle(item: RequirementItem): boolean {
    return item.kind === 'image' && (item.requirement.from ?? 'registry') === 'registry'
  }

  async fetch(items: RequirementItem[], ctx: SourceContext): Promise<Entry[]> {
    const images = items.filter((item): item is ImageItem => item.kind === 'image' && this.canHandle(item))
    if (images.length === 0) return []
    // Every reference is checked before a byte is fetched.
    const refs = images.map((item) => {
      try {
        return parseReference(item.requirement.ref)
      } catch (err) {
        throw named(item, err)
      }
    })
    refuseTwice(images, refs)
    const access = await loadRegistryAccess(ctx.settings.registriesFile, this.options.dockerConfig)
    const clients = new Clients(access, this.options.http ?? defaultHttp)
    // Each blob is fetched once however many images name it.
    const blobs: SharedBlobs = new Map()
    try {
      const entries = await allOrNothing(
        images.map((item, i) => async (signal) => {
          try {
            const puller = new ImagePuller(ctx, signal, blobs)
            const entry = await puller.image(
              item.module,
              item.requirement,
              refs[i],
              clients.of(refs[i].registry),
            )
            ctx.note(`${label(item)}: ${entry.name} is ${entry.digest} (${entry.platform})`, {
              ref: item.requirement.ref,
              digest: entry.digest,
              platform: entry.platform,
            })
            return entry as unknown as Entry
          } catch (err) {
            // Another item's failure stopped this one: that failure is the one reported.
            throw signal.aborted ? err : named(item, err)
          }
        }),
        ctx.signal,
      )
      return entries
    } finally {
      await clients.close()
    }
  }
}

/** One client a registry, made when first needed. */
class Clients {
  private readonly byRegistry = new Map<string, RegistryClient>()
  private readonly https = new Set<RegistryHttp>()

  constructor(
    private readonly access: RegistryAccessList,
    private readonly http: HttpFactory,
  ) {}

  /** Closes every client's connections. */
  async close(): Promise<void> {
    await Promise.all([...this.https].map((http) => http.close?.().catch(() => {})))
  }

  of(registry: string): RegistryClient {
    let client = this.byRegistry.get(registry)
    if (client === undefined) {
      const access = this.access.access(registry)
      const http = this.http({
        ...(access.ca === undefined ? {} : { ca: access.ca }),
        insecure: access.plainHttp,
      })
      this.https.add(http)
      client = new RegistryClient(registry, access, http)
      this.byRegistry.set(registry, client)
    }
    return client
  }
}

/**
 * Two items of one module that name the same image would be two entries of
 * one name: ERR_INVALID_REQUIREMENTS naming both (several platforms of one
 * image are one item with `platform: all`).
 */
function refuseTwice(images: ImageItem[], refs: Array<ImageReference | undefined>): void {
  const seen = new Map<string, ImageItem>()
  for (const [i, item] of images.entries()) {
    const ref = refs[i]
    if (ref === undefined) continue
    const key = `${item.module}\0${ref.name}`
    const other = seen.get(key)
    if (other !== undefined)
      throw new FerryError(
        'ERR_INVALID_REQUIREMENTS',
        `${label(item)}: module ${item.module} asks for ${ref.name} already (${label(other)}); for several platforms of one image, ask once with platform: all`,
        { details: { file: item.file, field: item.field, ref: item.requirement.ref } },
      )
    seen.set(key, item)
  }
}

/**
 * Refuses a module that asks for one image twice, whatever source fetches
 * each (a registry, the Docker engine): checked on every item of a download
 * before anything is fetched, since both would become the same entry. A
 * reference that does not parse is left to its source, which names it.
 */
export function refuseImageTwice(items: RequirementItem[]): void {
  const images = items.filter((item): item is ImageItem => item.kind === 'image')
  refuseTwice(
    images,
    images.map((item) => {
      try {
        return parseReference(item.requirement.ref)
      } catch {
        return undefined
      }
    }),
  )
}

/** `kafka/requirements.yaml: images[0] (127.0.0.1:5000/x:1)`: the file (relative to here when below), field and ref. */
export function label(item: ImageItem): string {
  const rel = relative(process.cwd(), item.file)
  const file = rel.startsWith('..') || rel === '' ? item.file : rel
  return `${file}: ${item.field} (${item.requirement.ref})`
}

/** `err` with the item named in front of its message, its code kept (ERR_INTERNAL for what was not ferry's). */
function named(item: ImageItem, err: unknown): FerryError {
  const details = { file: item.file, field: item.field, ref: item.requirement.ref }
  if (isFerryError(err))
    return new FerryError(err.code, `${label(item)}: ${err.message}`, {
      cause: err,
      details: { ...err.details, ...details },
    })
  return new FerryError('ERR_INTERNAL', `${label(item)}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    details,
  })
}
