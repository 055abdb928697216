import { isFerryError, parseCid, type Store } from '../../store/index.js'

/** The head that holds ferry's bundle (`ferry bundle --publish`); bundle/publish.ts names it the same. */
export const SELF_HEAD = 'ferry'

/**
 * The heads an export adds to those named so that the tool travels with
 * every release: head {@link SELF_HEAD} when this store has it, complete,
 * and it is not named already. It is a head of its own, with its own
 * signature, so the releases' signed roots stay as they are; against a
 * `--base` that holds the same bundle, none of its blocks travel. A head
 * that cannot be carried is left out with a warning, never failing the export.
 */
export async function selfHeads(store: Store, named: string[], warnings: string[]): Promise<string[]> {
  if (named.includes(SELF_HEAD)) return []
  try {
    const head = await store.resolveHead(SELF_HEAD)
    if (!(await store.completeness.isComplete(parseCid(head.root)))) {
      warnings.push(`head ${SELF_HEAD} ${head.version} is not complete in this store: left out`)
      return []
    }
    return [SELF_HEAD]
  } catch (err) {
    if (isFerryError(err, 'ERR_NOT_FOUND')) return []
    if (isFerryError(err, 'ERR_AMBIGUOUS')) {
      warnings.push(`${err.message}: left out`)
      return []
    }
    throw err
  }
}
