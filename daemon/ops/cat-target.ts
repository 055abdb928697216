import { type CID, entriesOf, FerryError, parseCid, type Store } from '../../store/index.js'

/** Resolves `HEAD/MODULE/NAME` (NAME may hold slashes), a head name or a CID to a file DAG root. */
export async function resolveCatTarget(store: Store, target: string): Promise<CID> {
  const parts = target.split('/')
  if (parts.length === 1) return (await store.resolveRoot(target)).root
  if (parts.length < 3) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `'${target}': expected HEAD/MODULE/NAME or a CID`)
  }
  const [headName, module, ...rest] = parts
  const name = rest.join('/')
  const head = await store.resolveHead(headName)
  for await (const entry of entriesOf(store.blocks, parseCid(head.root))) {
    if (entry.module === module && entry.name === name) return entry.root
  }
  throw new FerryError(
    'ERR_NOT_FOUND',
    `head ${headName} has no entry ${module}/${name} (ferry ls ${headName} lists them)`,
  )
}
