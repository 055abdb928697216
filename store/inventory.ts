import { readFile } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { parseCid } from './cid.js'
import { FerryError } from './errors.js'
import type { Store } from './store.js'

export const INVENTORY_FORMAT = 'ferry-inventory/1'

/**
 * What a site's store holds, in kilobytes: written at the site by
 * `ferry inventory`, carried back, and given to `ferry export --base` so the
 * next archive leaves out everything the site already has.
 */
export interface Inventory {
  format: typeof INVENTORY_FORMAT
  created: string
  heads: Array<{
    name: string
    version: string
    seq: number
    root: string
    publisher: string
    complete: boolean
  }>
  /** Roots whose whole DAG the site holds. */
  complete: string[]
}

export async function makeInventory(store: Store): Promise<Inventory> {
  const heads = []
  const complete: string[] = []
  for (const head of await store.heads()) {
    const isComplete = await store.completeness.isComplete(parseCid(head.root))
    heads.push({
      name: head.name,
      version: head.version,
      seq: head.seq,
      root: head.root,
      publisher: head.publisher,
      complete: isComplete,
    })
    if (isComplete && !complete.includes(head.root)) complete.push(head.root)
  }
  return { format: INVENTORY_FORMAT, created: new Date().toISOString(), heads, complete }
}

/** Reads an inventory file; ERR_INVALID_ARGUMENT naming the file when it is not one. */
export async function readInventory(path: string): Promise<{ inventory: Inventory; roots: CID[] }> {
  let value: Partial<Inventory>
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch (cause) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${path}: not a ferry inventory (${(cause as Error).message})`,
      { cause },
    )
  }
  if (value?.format !== INVENTORY_FORMAT || !Array.isArray(value.complete) || !Array.isArray(value.heads)) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${path}: not a ferry inventory (expected format ${INVENTORY_FORMAT})`,
    )
  }
  return { inventory: value as Inventory, roots: value.complete.map((root) => parseCid(root)) }
}
