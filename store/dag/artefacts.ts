import { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import type { JsonSublevel } from '../db/db.js'
import { entriesOf } from './bom-dag.js'
import type { Completeness } from './completeness.js'
import type { Entry } from './nodes/index.js'

/** One artefact the store holds whole: its sha256 (hex), its file DAG and its size. */
export interface Artefact {
  sha256: string
  root: CID
  size: number
}

/** What the index keeps under an artefact's sha256. */
export interface ArtefactRecord {
  root: string
  size: number
}

export interface ArtefactIndexComponents {
  blockstore: Blockstore
  /** sha256 hex → its file DAG and size. */
  records: JsonSublevel<ArtefactRecord>
  completeness: Completeness
}

const SHA256_DIGEST = /^sha256:([0-9a-f]{64})$/

/**
 * The artefacts an entry stands for: the entry's own bytes and, for an image,
 * each blob and each manifest of a kept index named by a `sha256:` digest
 * (its OCI digest is its whole sha256).
 */
export function artefactsOf(entry: Entry): Artefact[] {
  const out: Artefact[] = [{ sha256: entry.sha256, root: entry.root, size: entry.size }]
  const { blobs, manifests } = entry as { blobs?: unknown; manifests?: unknown }
  const named = [...(Array.isArray(manifests) ? manifests : []), ...(Array.isArray(blobs) ? blobs : [])]
  for (const blob of named as Array<{ digest?: unknown; root?: unknown; size?: unknown }>) {
    const sha256 = typeof blob?.digest === 'string' ? SHA256_DIGEST.exec(blob.digest)?.[1] : undefined
    const root = CID.asCID(blob?.root)
    if (sha256 !== undefined && root !== null && typeof blob.size === 'number')
      out.push({ sha256, root, size: blob.size })
  }
  return out
}

/**
 * Which whole artefacts the store holds, by sha256: how a downloader knows,
 * before it fetches a byte, that a file, an image blob or a package is here
 * already. Artefacts are remembered when a release that names them is
 * published (built, imported or synced) and answered only while their DAG is
 * complete, so a lookup never names bytes that `gc` has taken.
 */
export class ArtefactIndex {
  constructor(private readonly components: ArtefactIndexComponents) {}

  /** Remembers `artefacts` (their DAGs complete here). */
  async remember(artefacts: Artefact[]): Promise<void> {
    if (artefacts.length === 0) return
    await this.components.records.batch(
      artefacts.map((a) => ({
        type: 'put' as const,
        key: a.sha256,
        value: { root: a.root.toString(), size: a.size },
      })),
    )
  }

  /** Remembers every artefact of the release at `root`. */
  async rememberRelease(root: CID, options: AbortOptions = {}): Promise<void> {
    const artefacts: Artefact[] = []
    for await (const entry of entriesOf(this.components.blockstore, root)) {
      options.signal?.throwIfAborted()
      artefacts.push(...artefactsOf(entry))
    }
    await this.remember(artefacts)
  }

  /** The artefact with this sha256 (hex), when the store holds all of it; else undefined. */
  async find(sha256: string): Promise<Artefact | undefined> {
    const record = await this.components.records.get(sha256)
    if (record === undefined) return undefined
    const root = CID.parse(record.root)
    if (!(await this.components.completeness.isComplete(root))) return undefined
    return { sha256, root, size: record.size }
  }
}
