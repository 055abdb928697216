import type { CID } from 'multiformats/cid'
import type { Entry, ImageBlob, ImageEntry } from '../../../../store/index.js'
import type { ServeCatalog, ServedHead } from '../catalog.js'
import { isIndexType } from './accept.js'
import { candidates, DOCKER_HUB } from './names.js'

/** A manifest or index as stored: its bytes' digest, media type and file DAG. */
export interface StoredManifest {
  digest: string
  mediaType: string
  size: number
  root: CID
  /** For a manifest an index names: its platform (`linux/arm64/v8`). */
  platform?: string
  /** For an index: the manifests it names that are kept. */
  children?: ImageBlob[]
}

/** One served repository (`docker.io/library/busybox`): its tags, and every manifest and blob by digest. */
export interface ServedRepository {
  /** `registry/path`. */
  name: string
  registry: string
  path: string
  tags: Map<string, StoredManifest>
  manifests: Map<string, StoredManifest>
  blobs: Map<string, ImageBlob>
}

/**
 * The images of the served heads by repository, built once per change of
 * the catalog. A tag held by several heads is the newest head's; every
 * manifest, index and blob of every served head stays reachable by digest.
 */
export class ImageIndex {
  /** By `registry/path`. */
  readonly repositories = new Map<string, ServedRepository>()
  /** Repositories of registries other than docker.io, by path, newest head's first. */
  private readonly byPath = new Map<string, ServedRepository[]>()

  /** `heads` newest first, as the catalog has them. */
  constructor(heads: ServedHead[]) {
    for (const head of heads) {
      // Within one head, an index wins a tag over a single manifest (it can answer either kind of client).
      const taggedHere = new Map<ServedRepository, Set<string>>()
      for (const entry of head.entries) {
        if (!isImage(entry)) continue
        const repo = this.repository(entry.repository)
        const manifest: StoredManifest = {
          digest: entry.digest,
          mediaType: entry.mediaType,
          size: entry.size,
          root: entry.root,
          ...(entry.manifests === undefined ? {} : { children: entry.manifests }),
        }
        if (!repo.manifests.has(entry.digest)) repo.manifests.set(entry.digest, manifest)
        for (const child of entry.manifests ?? [])
          if (!repo.manifests.has(child.digest))
            repo.manifests.set(child.digest, {
              digest: child.digest,
              mediaType: child.mediaType,
              size: child.size,
              root: child.root,
              ...(child.platform === undefined ? {} : { platform: child.platform }),
            })
        for (const blob of entry.blobs) if (!repo.blobs.has(blob.digest)) repo.blobs.set(blob.digest, blob)
        if (entry.tag !== undefined) {
          const here = taggedHere.get(repo) ?? new Set<string>()
          taggedHere.set(repo, here)
          const held = repo.tags.get(entry.tag)
          const wins =
            held === undefined ||
            (here.has(entry.tag) && !isIndexType(held.mediaType) && isIndexType(manifest.mediaType))
          if (wins) {
            repo.tags.set(entry.tag, manifest)
            here.add(entry.tag)
          }
        }
      }
    }
  }

  private repository(name: string): ServedRepository {
    let repo = this.repositories.get(name)
    if (repo === undefined) {
      const slash = name.indexOf('/')
      const registry = name.slice(0, slash)
      const path = name.slice(slash + 1)
      repo = { name, registry, path, tags: new Map(), manifests: new Map(), blobs: new Map() }
      this.repositories.set(name, repo)
      if (registry !== DOCKER_HUB) this.byPath.set(path, [...(this.byPath.get(path) ?? []), repo])
    }
    return repo
  }

  /** The repository `/v2/<name>/…` names, with `ns` from the query (see names.ts for the rules). */
  find(name: string, ns: string | undefined): ServedRepository | undefined {
    for (const candidate of candidates(name, ns)) {
      const repo = this.repositories.get(candidate)
      if (repo !== undefined) return repo
    }
    return ns === undefined ? this.byPath.get(name)?.[0] : undefined
  }

  /**
   * The names `/v2/_catalog` lists: a docker.io repository by its path (as a
   * docker.io mirror is asked), any other by `registry/path`. Sorted.
   */
  catalog(): string[] {
    return [...this.repositories.values()]
      .map((repo) => (repo.registry === DOCKER_HUB ? repo.path : repo.name))
      .sort()
  }
}

function isImage(entry: Entry): entry is Entry & ImageEntry {
  return entry.kind === 'image' && typeof (entry as Partial<ImageEntry>).repository === 'string'
}

/** The image index of a catalog, rebuilt only when the catalog's heads change. */
export class RegistryImages {
  private last?: { heads: ServedHead[]; index: ImageIndex }

  constructor(private readonly catalog: ServeCatalog) {}

  /** The index of the catalog's current heads. */
  async index(): Promise<ImageIndex> {
    const heads = await this.catalog.heads()
    // The catalog hands out the same array until its heads change.
    if (this.last?.heads !== heads) this.last = { heads, index: new ImageIndex(heads) }
    return this.last.index
  }
}
