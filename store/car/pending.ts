import type { CID } from 'multiformats/cid'
import { blockKey } from '../blocks/block-key.js'
import type { AbortOptions } from '../blocks/blockstore.js'
import { parseCid } from '../blocks/cid.js'
import { walkIndex } from '../dag/walk.js'
import type { Store } from '../store.js'

/*
 * A split import in progress: some parts are in, the heads wait for the
 * others. Its blocks belong to no head yet, so gc would drop them; the
 * record below makes them gc roots until the heads are published, and lets
 * the waiting message name the parts still missing. Kept in the index's
 * `meta` sublevel: one key for the import, one per imported part.
 */

const PREFIX = 'pending-import/'

/** What is known of one unfinished split import. */
export interface PendingImport {
  /** The archive's envelope CID. */
  envelope: string
  /** The heads it carries, waiting. */
  heads: Array<{ name: string; version: string; seq: number; publisher: string; root: string }>
  parts: number
  /** Part index → the file it was imported from. */
  imported: Record<string, string>
  /** When the last part was imported (ISO). */
  updated: string
}

const importKey = (envelope: string) => `${PREFIX}${envelope}`
const partKey = (envelope: string, index: number) => `${PREFIX}${envelope}/${index}`

/** The record of the import of `envelope`, if one is pending. */
export async function pendingImport(store: Store, envelope: string): Promise<PendingImport | undefined> {
  return (await store.db.meta.get(importKey(envelope))) as PendingImport | undefined
}

/**
 * Records that part `index` of `envelope` (read from `file`, carrying
 * `blocks`) is in while its heads still wait; returns the updated record.
 */
export async function recordPart(
  store: Store,
  envelope: string,
  part: { index: number; parts: number; file: string },
  heads: PendingImport['heads'],
  blocks: CID[],
): Promise<PendingImport> {
  const previous = await pendingImport(store, envelope)
  const record: PendingImport = {
    envelope,
    heads,
    parts: part.parts,
    imported: { ...previous?.imported, [part.index]: part.file },
    updated: new Date().toISOString(),
  }
  await store.db.meta.batch([
    { type: 'put', key: partKey(envelope, part.index), value: blocks.map(blockKey) },
    { type: 'put', key: importKey(envelope), value: record },
  ])
  return record
}

/** Forgets the import of `envelope` (its heads are published). */
export async function forgetImport(store: Store, envelope: string): Promise<void> {
  const record = await pendingImport(store, envelope)
  if (record === undefined) return
  await store.db.meta.batch([
    { type: 'del', key: importKey(envelope) },
    ...Array.from({ length: record.parts }, (_, i) => ({
      type: 'del' as const,
      key: partKey(envelope, i + 1),
    })),
  ])
}

/** Every pending split import. */
export async function pendingImports(store: Store): Promise<PendingImport[]> {
  const out: PendingImport[] = []
  for await (const [key, value] of store.db.meta.iterator({ gte: PREFIX, lt: `${PREFIX}\uffff` })) {
    if (key.slice(PREFIX.length).includes('/')) continue
    out.push(value as PendingImport)
  }
  return out
}

/** The part numbers of `record` not imported yet. */
export function missingParts(record: Pick<PendingImport, 'parts' | 'imported'>): number[] {
  return Array.from({ length: record.parts }, (_, i) => i + 1).filter((i) => record.imported[i] === undefined)
}

/**
 * Marks in `reachable` (block keys) every block a pending import brought and
 * every block below its heads' roots that is here: gc keeps them. An import
 * whose every head the store already has at that seq or newer can never
 * publish: it is forgotten (its blocks go) and returned as `dropped`.
 */
export async function markPendingImports(
  store: Store,
  reachable: Set<string>,
  options: AbortOptions = {},
): Promise<{ kept: PendingImport[]; dropped: PendingImport[] }> {
  const current = new Map<string, number>()
  for (const head of await store.heads()) current.set(`${head.name}\0${head.publisher}`, head.seq)
  const superseded = (record: PendingImport) =>
    record.heads.every((h) => (current.get(`${h.name}\0${h.publisher}`) ?? -1) >= h.seq)
  const pending: PendingImport[] = []
  const dropped: PendingImport[] = []
  for (const record of await pendingImports(store)) {
    if (!superseded(record)) pending.push(record)
    else {
      dropped.push(record)
      await forgetImport(store, record.envelope)
    }
  }
  // The walks first: a walk does not descend below a node already marked.
  for (const record of pending) {
    for (const head of record.heads) {
      await walkIndex(store.blocks, parseCid(head.root), reachable, () => true, options)
    }
  }
  for (const record of pending) {
    for (const index of Object.keys(record.imported)) {
      const keys = (await store.db.meta.get(partKey(record.envelope, Number(index)))) as string[] | undefined
      for (const key of keys ?? []) reachable.add(key)
    }
  }
  return { kept: pending, dropped }
}
