/**
 * The generated files of each served head's apt repository, made once per
 * head (keyed by the signed head's CID: a new head is a new repository) and
 * kept for the few heads asked for last. Requests that arrive while a head's
 * files are being made wait for that one generation.
 */
import type { PackageEntry } from '../../../../store/index.js'
import type { ServedHead } from '../catalog.js'

/** A generated index file and its ETag. */
export interface GeneratedFile {
  bytes: Buffer
  etag: string
}

/** A head's repository: its index files by name, and the .debs by `Filename`. */
export interface AptRepository {
  /** `Packages`, `Packages.gz`, `Release`, `InRelease`, `Release.gpg`. */
  /** Each index file's bytes and ETag (their sha256), made with them. */
  files: Map<string, GeneratedFile>
  pool: Map<string, PackageEntry>
  /** Stanzas in `Packages`. */
  packages: number
}

/** Makes a head's repository. */
export type AptGenerator = (head: ServedHead) => Promise<AptRepository>

/** How many heads' repositories are kept. */
const KEPT_HEADS = 8

export class AptRepositoryCache {
  private readonly kept = new Map<string, Promise<AptRepository>>()
  /** How many repositories were generated (a cached answer adds none). */
  generations = 0

  constructor(private readonly generate: AptGenerator) {}

  /** The repository of `head`, made now or earlier. */
  get(head: ServedHead): Promise<AptRepository> {
    const key = head.record.cid
    let repository = this.kept.get(key)
    if (repository !== undefined) {
      // Most recently used last.
      this.kept.delete(key)
    } else {
      this.generations++
      repository = this.generate(head)
      repository.catch(() => this.kept.get(key) === repository && this.kept.delete(key))
    }
    this.kept.set(key, repository)
    for (const old of this.kept.keys()) {
      if (this.kept.size <= KEPT_HEADS) break
      this.kept.delete(old)
    }
    return repository
  }
}
