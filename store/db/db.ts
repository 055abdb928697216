import type { AbstractSublevel } from 'abstract-level'
import { ClassicLevel } from 'classic-level'
import { FerryError } from '../errors.js'
import { systemError } from '../system-error.js'
import { guardWrites } from './write-guard.js'

export type RootDb = ClassicLevel<string, string>
type Format = string | Buffer | Uint8Array
/** A sublevel of the index whose keys are `K` and values `V` (as its encodings give them). */
export type Sublevel<K, V> = AbstractSublevel<RootDb, Format, K, V>
export type BinarySublevel = Sublevel<Uint8Array, Uint8Array>
export type JsonSublevel<V> = Sublevel<string, V>

/** What the index locates in one pack. */
export interface LiveCount {
  blocks: number
  bytes: number
}

/** The store's index: one LevelDB, one sublevel per concern (DESIGN.md, Store). */
export interface StoreDb {
  root: RootDb
  /** multihash → pack location */
  blocks: BinarySublevel
  /** pack number (8 hex digits) → committed end offset */
  packs: JsonSublevel<number>
  /** pack number (8 hex digits) → blocks and bytes the index locates in it, kept in the same batches as `blocks` */
  live: JsonSublevel<LiveCount>
  /** name \0 publisher → signed head record */
  heads: JsonSublevel<unknown>
  /** multihash of a complete root → '' */
  complete: BinarySublevel
  /** publisher token → when it was added */
  trust: JsonSublevel<{ added: string; note?: string }>
  /** sha256 hex of a whole artefact (file, image blob, package) → its file DAG and size */
  artefacts: JsonSublevel<{ root: string; size: number }>
  /** free-form metadata: format version, … */
  meta: JsonSublevel<unknown>
}

/** Opens (creating when asked) the index at `location`; ERR_STORE_LOCKED when another process holds it. */
export async function openStoreDb(location: string, options: { create: boolean }): Promise<StoreDb> {
  const root: RootDb = new ClassicLevel<string, string>(location, {
    createIfMissing: options.create,
    writeBufferSize: 16 * 1024 * 1024,
  })
  try {
    await root.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new FerryError(
        'ERR_STORE_LOCKED',
        `the store index ${location} is in use by another ferry process`,
        {
          cause: err,
        },
      )
    }
    // "Database failed to open" alone does not say why: the cause does (a full disk, a refused access).
    const why = [err, cause].map((e) => (e as Error | undefined)?.message).filter(Boolean)
    throw systemError(Object.assign(new Error(why.join(': ')), { cause: err }), `the store index ${location}`)
  }
  const view = { keyEncoding: 'view', valueEncoding: 'view' } as const
  const json = { keyEncoding: 'utf8', valueEncoding: 'json' } as const
  const db: StoreDb = {
    root,
    blocks: root.sublevel<Uint8Array, Uint8Array>('blocks', view),
    packs: root.sublevel<string, number>('packs', json),
    live: root.sublevel<string, LiveCount>('live', json),
    heads: root.sublevel<string, unknown>('heads', json),
    complete: root.sublevel<Uint8Array, Uint8Array>('complete', view),
    trust: root.sublevel<string, { added: string; note?: string }>('trust', json),
    artefacts: root.sublevel<string, { root: string; size: number }>('artefacts', json),
    meta: root.sublevel<string, unknown>('meta', json),
  }
  const { root: _, ...sublevels } = db
  guardWrites(root, Object.values(sublevels), location)
  return db
}
