import { open, readFile, rename, rm } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { parseCid } from '../blocks/cid.js'
import { FerryError } from '../errors.js'
import type { Store } from '../store.js'
import { systemError } from '../system-error.js'

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

/**
 * Writes `inventory` to `path` whole or not at all: to `PATH.partial`, fsynced,
 * then renamed over `path`; on failure (a full disk) the partial file is
 * removed and the error (ERR_NO_SPACE…) names `path`.
 */
export async function writeInventory(path: string, inventory: Inventory): Promise<void> {
  const partial = `${path}.partial`
  try {
    const handle = await open(partial, 'w')
    try {
      await handle.writeFile(`${JSON.stringify(inventory, null, 2)}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(partial, path)
  } catch (err) {
    await rm(partial, { force: true }).catch(() => {})
    throw systemError(err, path)
  }
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
