import type { AbstractBatchOperation } from 'abstract-level'
import type { RootDb, Sublevel } from './db.js'

/** A key in some sublevel of the index: text or bytes, as that sublevel's key encoding takes. */
type Key = string | Uint8Array

/**
 * One operation of an atomic batch across sublevels. Make it with `putOp` or
 * `delOp`, which check its key and value against its sublevel's types.
 */
export type BatchOp = AbstractBatchOperation<RootDb, Key, unknown>

/** Puts `value` at `key` in `sublevel`, as part of a batch. */
export function putOp<K extends Key, V>(sublevel: Sublevel<K, V>, key: K, value: V): BatchOp {
  return { type: 'put', sublevel, key, value }
}

/** Deletes `key` from `sublevel`, as part of a batch. */
export function delOp<K extends Key, V>(sublevel: Sublevel<K, V>, key: K): BatchOp {
  return { type: 'del', sublevel, key }
}

/** Applies `ops` atomically: all of them, or none on a crash. */
export function writeBatch(root: RootDb, ops: BatchOp[]): Promise<void> {
  // The overload with options takes operations whose keys and values are not the root's
  // strings; each is encoded by its own sublevel.
  return root.batch(ops, {})
}
