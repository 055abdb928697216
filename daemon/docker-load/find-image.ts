import {
  entriesOf,
  FerryError,
  type HeadRecord,
  type ImageEntry,
  parseCid,
  type Store,
} from '../../store/index.js'
import { parseReference } from '../sources/image/reference.js'

/** An image entry found for `ferry load`, and the head it is in. */
export interface FoundImage {
  head: HeadRecord
  entry: ImageEntry
}

const isImage = (entry: { kind: string }): entry is ImageEntry => entry.kind === 'image'

/**
 * The image IMAGE names: `HEAD/MODULE/NAME` (as `ferry cat` takes it) when
 * HEAD is a head of the store with that image entry; else an image reference
 * (`busybox:1.36`, `docker.io/library/busybox:1.36`, `…@sha256:…`), normalised
 * as docker does and looked for among the complete heads, newest first: the
 * newest head with an image of that name wins. ERR_NOT_FOUND naming IMAGE
 * when neither finds it.
 */
export async function findImage(store: Store, image: string): Promise<FoundImage> {
  const records = [...(await store.heads())].sort((a, b) =>
    a.created < b.created ? 1 : a.created > b.created ? -1 : 0,
  )
  const [headName, module, ...rest] = image.split('/')
  const named = rest.length > 0 ? records.filter((r) => r.name === headName) : []
  for (const record of named) {
    for await (const entry of entriesOf(store.blocks, parseCid(record.root))) {
      if (entry.module === module && entry.name === rest.join('/')) {
        if (!isImage(entry))
          throw new FerryError('ERR_INVALID_ARGUMENT', `${image} is a ${entry.kind}, not an image`)
        return { head: record, entry }
      }
    }
  }
  let wanted: string | undefined
  try {
    wanted = parseReference(image).name
  } catch {
    // Not a reference either: not found, below.
  }
  if (wanted !== undefined) {
    for (const record of records) {
      const root = parseCid(record.root)
      if (!(await store.completeness.isComplete(root))) continue
      for await (const entry of entriesOf(store.blocks, root)) {
        if (isImage(entry) && entry.name === wanted) return { head: record, entry }
      }
    }
  }
  const also = wanted !== undefined && wanted !== image ? ` (${wanted})` : ''
  throw new FerryError(
    'ERR_NOT_FOUND',
    `no image ${image}${also} in the store: name it HEAD/MODULE/NAME or by a reference an image entry of a complete head has (ferry ls HEAD lists them)`,
    { details: { image } },
  )
}
