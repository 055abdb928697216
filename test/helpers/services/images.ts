import { createHash } from 'node:crypto'
import type { ExecutionContext } from 'ava'
import type { RequirementItem } from '../../../daemon/sources/index.js'
import { type ImageEntry, readFile, type Store } from '../../../store/index.js'

/** An `images:` item of module `m` (`/nonexistent/m/requirements.yaml`, `images[INDEX]`). */
export function imageItem(
  ref: string,
  extra: { platform?: string; index?: number; from?: 'registry' | 'docker' } = {},
): Extract<RequirementItem, { kind: 'image' }> {
  const { index, ...rest } = extra
  return {
    kind: 'image',
    module: 'm',
    file: '/nonexistent/m/requirements.yaml',
    field: `images[${index ?? 0}]`,
    requirement: { ref, ...rest },
  }
}

/** The sha256 digest of a stored artefact, read back from the store through its DAG. */
export async function storedDigest(store: Store, root: ImageEntry['root']): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of readFile(store.blocks, root)) hash.update(chunk)
  return `sha256:${hash.digest('hex')}`
}

/**
 * Checks that the image entry's manifest (or index), every manifest it keeps
 * and every blob are in the store, each with the bytes its digest names.
 */
export async function assertStored(t: ExecutionContext, store: Store, entry: ImageEntry): Promise<void> {
  t.is(await storedDigest(store, entry.root), entry.digest, 'the manifest as stored')
  t.is(entry.digest, `sha256:${entry.sha256}`)
  for (const blob of [...(entry.manifests ?? []), ...entry.blobs])
    t.is(await storedDigest(store, blob.root), blob.digest, `blob ${blob.digest} as stored`)
}
