import { readFile } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { parseCid } from '../blocks/cid.js'
import { FerryError } from '../errors.js'
import type { Store } from '../store.js'

export const INVENTORY_FORMAT = 'ferry-inventory/1'

/**
 * What a site's store holds, in kilobytes: written at the site by
 * `ferry inventory`, carried back, and given to `ferry export --base` so the
 * next archive leaves out everything the site already has.
 */
export interface Inventory {
  format: typeof INVENTORY_FORMAT
  created: string
  heads: HeadSummary[]
  /** Roots whose whole DAG the site holds. */
  complete: string[]
}

/** A head with whether its DAG is complete here: `ferry ls --json`, status and inventories. */
export interface HeadSummary {
  name: string
  version: string
  seq: number
  root: string
  publisher: string
  /** Every block below the root is in the store. */
  complete: boolean
}

/** The store's heads with their completeness, sorted by name. */
export async function headSummaries(store: Store): Promise<HeadSummary[]> {
  const out: HeadSummary[] = []
  for (const head of await store.heads()) {
    out.push({
      name: head.name,
      version: head.version,
      seq: head.seq,
      root: head.root,
      publisher: head.publisher,
      complete: await store.completeness.isComplete(parseCid(head.root)),
    })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export async function makeInventory(store: Store): Promise<Inventory> {
  const heads = await headSummaries(store)
  const complete = [...new Set(heads.filter((h) => h.complete).map((h) => h.root))]
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
