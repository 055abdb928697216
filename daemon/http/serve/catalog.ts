import type { CID } from 'multiformats/cid'
import { type Entry, entriesOf, type HeadRecord, parseCid, type Store } from '../../../store/index.js'

/** How soon heads that were incomplete are looked at again. */
const INCOMPLETE_RECHECK_MS = 1000

/** A head the serving port answers for: complete, with its entries loaded. */
export interface ServedHead {
  record: HeadRecord
  root: CID
  entries: Entry[]
}

/**
 * What the serving port serves: the store's complete heads, newest first
 * (by creation time), each with its entries. Loaded on first use and again
 * when the store's heads change (a release imported, synced or published),
 * so that a release is served the moment it is complete; an incomplete head
 * is not served at all.
 */
export class ServeCatalog {
  private current?: Promise<ServedHead[]>
  private previous?: ServedHead[]
  private readonly loaded = new Map<string, Promise<ServedHead | undefined>>()
  private readonly onHeads = () => {
    this.current = undefined
  }

  constructor(private readonly store: Store) {
    store.events.on('heads', this.onHeads)
  }

  /** Stops following the store's heads. */
  close(): void {
    this.store.events.off('heads', this.onHeads)
  }

  /** The complete heads, newest first. */
  heads(): Promise<ServedHead[]> {
    this.current ??= this.load().catch((err) => {
      this.current = undefined
      throw err
    })
    return this.current
  }

  /**
   * The served head named `name` (the newest one when several publishers
   * have one), at `version` when given: undefined when there is none, or
   * when it is not complete.
   */
  async head(name: string, version?: string): Promise<ServedHead | undefined> {
    return (await this.heads()).find(
      (head) => head.record.name === name && (version === undefined || head.record.version === version),
    )
  }

  private async load(): Promise<ServedHead[]> {
    const records = await this.store.heads()
    const served: ServedHead[] = []
    for (const record of records) {
      const head = await this.headOf(record)
      if (head !== undefined) served.push(head)
    }
    // A head whose blocks are still arriving is looked at again shortly: completing it changes no head.
    if (served.length < records.length) {
      const timer = setTimeout(this.onHeads, INCOMPLETE_RECHECK_MS)
      timer.unref()
    }
    // Forget heads that were replaced.
    const live = new Set(records.map((record) => record.cid))
    for (const cid of this.loaded.keys()) if (!live.has(cid)) this.loaded.delete(cid)
    served.sort((a, b) =>
      a.record.created < b.record.created ? 1 : a.record.created > b.record.created ? -1 : 0,
    )
    // The same heads as last time (a recheck found the incomplete ones still incomplete): the same array,
    // so that what is built from it (the registry's image index) is not built again.
    const previous = this.previous
    if (
      previous !== undefined &&
      previous.length === served.length &&
      previous.every((h, i) => h === served[i])
    )
      return previous
    this.previous = served
    return served
  }

  private headOf(record: HeadRecord): Promise<ServedHead | undefined> {
    let pending = this.loaded.get(record.cid)
    if (pending === undefined) {
      pending = (async () => {
        const root = parseCid(record.root)
        if (!(await this.store.completeness.isComplete(root))) return undefined
        const entries: Entry[] = []
        for await (const entry of entriesOf(this.store.blocks, root)) entries.push(entry)
        return { record, root, entries }
      })()
      // An incomplete head is looked at again on the next change of heads; a complete one is kept.
      pending.then(
        (head) => head === undefined && this.loaded.delete(record.cid),
        () => this.loaded.delete(record.cid),
      )
      this.loaded.set(record.cid, pending)
    }
    return pending
  }
}
