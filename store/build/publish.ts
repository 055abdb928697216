import type { CID } from 'multiformats/cid'
import { encodeBom } from '../dag/bom-dag.js'
import type { Entry, ModuleRef } from '../dag/nodes/index.js'
import type { HeadRecord } from '../sign/heads.js'
import { signHead } from '../sign/heads.js'
import type { Store } from '../store.js'

/** What a release names. */
export interface ReleaseContent {
  name: string
  version: string
  modules: ModuleRef[]
  entries: Entry[]
}

export interface PublishReleaseOptions {
  /** Explicit sequence number; default: one above this publisher's current head of that name. */
  seq?: number
  allowDowngrade?: boolean
}

/**
 * The end of `bom build` and `download`: makes the entries' blocks durable
 * (they were written with `deferCommit`), marks their file DAGs complete,
 * stores the BOM, then signs and publishes head `name` with this store's
 * publisher key. The seq is chosen inside the publication, so concurrent
 * publications of one name each get their own.
 */
export async function publishRelease(
  store: Store,
  release: ReleaseContent,
  options: PublishReleaseOptions = {},
): Promise<{ root: CID; head: HeadRecord }> {
  await store.blocks.flush()
  // Every file DAG is durable now: remember each as complete, so publishing skips it in one lookup.
  await store.completeness.markMany(release.entries.map((entry) => entry.root))
  const bom = encodeBom(release)
  for await (const _ of store.blocks.putMany(bom.blocks)) {
    // durable
  }
  const publisher = await store.publisher()
  const head = await store.publishNext(
    release.name,
    publisher.token,
    (current) =>
      signHead(publisher, {
        name: release.name,
        version: release.version,
        seq: options.seq ?? (current?.seq ?? 0) + 1,
        root: bom.root,
      }),
    { allowDowngrade: options.allowDowngrade },
  )
  return { root: bom.root, head }
}
