import { existsSync } from 'node:fs'
import type { CID } from 'multiformats/cid'
import { blockKey } from '../blocks/block-key.js'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { parseCid } from '../blocks/cid.js'
import { type BaseRef, type EnvelopeNode, envelopeNode, partNode } from '../dag/nodes/index.js'
import { walkIndex } from '../dag/walk.js'
import { FerryError } from '../errors.js'
import { checkOutFile } from '../out-file.js'
import type { Location } from '../packs/format.js'
import { blockIn, readRuns } from '../packs/read-runs.js'
import type { HeadRecord, SignedHead } from '../sign/heads.js'
import type { Store } from '../store.js'
import { planPatches } from './export-patches.js'
import { encodeCarHeader, sectionBytes } from './format.js'
import { readInventory } from './inventory.js'
import { CarFileWriter } from './writer.js'

export interface ExportOptions extends AbortOptions {
  /** Head names to carry. */
  heads: string[]
  /** Leave out every block reachable from these: head names, CIDs, or inventory files. */
  base?: string[]
  /** The archive path; with `splitBytes`, parts are `out.001`, `out.002`, … */
  out: string
  /** Replace existing files at the part paths (never anything but a regular file, nor in the store). */
  force?: boolean
  /** Largest part, in bytes. Default: one archive. */
  splitBytes?: number
  /**
   * Carry changed blocks of entries the base releases also have as patches
   * against them (when this store holds those releases). @default true
   */
  patches?: boolean
  /** zstd level of patches. @default EXPORT_DELTA_LEVEL */
  deltaLevel?: number
  onProgress?: (done: number, total: number) => void
}

export interface ExportResult {
  envelope: string
  heads: Array<{ name: string; version: string; seq: number; root: string }>
  parts: Array<{ path: string; sections: number; bytes: number }>
  /** Data blocks carried, as themselves or inside patches (heads and envelope not counted), and the bytes written for them. */
  blocks: number
  bytes: number
  /** Blocks left out because the base has them. */
  skipped: number
  /** Blocks carried as patches, and the bytes those patches take instead of the blocks'. */
  patched: number
  patchBytes: number
  warnings: string[]
}

/** A block to write: read from the packs at `location`, or (a patch) already made. */
type Planned = { cid: CID; location: Location } | { cid: CID; block: Block }

const plannedBytes = (item: Planned) => ('block' in item ? item.block.bytes.byteLength : item.location.length)

const READ_AHEAD = 4

/**
 * zstd level of an archive's patches unless asked otherwise: an archive is
 * made once and carried, so it is worth more than sync's fast 3 (smaller by
 * about a quarter on JavaScript bundles), and still well above 20 MiB/s of
 * target bytes with the patch threads.
 */
export const EXPORT_DELTA_LEVEL = 12

/** Resolves --base arguments to roots (and names, for the import side's messages). */
async function resolveBase(store: Store, refs: string[], warnings: string[]): Promise<BaseRef[]> {
  const out: BaseRef[] = []
  for (const ref of refs) {
    if (existsSync(ref)) {
      const { inventory, roots } = await readInventory(ref)
      for (const root of roots) {
        const head = inventory.heads.find((h) => h.root === root.toString())
        out.push({ root, ...(head ? { name: head.name, version: head.version } : {}) })
      }
      continue
    }
    const { root, head } = await store.resolveRoot(ref)
    out.push({ root, ...(head ? { name: head.name, version: head.version } : {}) })
  }
  for (const base of out) {
    if (!(await store.completeness.isComplete(base.root))) {
      warnings.push(
        `base ${base.name ?? base.root} is not complete in this store: only its blocks held here are left out`,
      )
    }
  }
  return out
}

/** The blocks to write, in DAG order (index nodes before their children), minus the base's. */
async function plan(store: Store, records: HeadRecord[], base: BaseRef[], options: AbortOptions) {
  const inBase = new Set<string>()
  for (const { root } of base) await walkIndex(store.blocks, root, inBase, () => true, options)
  const seen = new Set<string>()
  const blocks: Planned[] = []
  let skipped = 0
  for (const record of records) {
    await walkIndex(
      store.blocks,
      parseCid(record.root),
      seen,
      (cid, location) => {
        // The base holds this block, and (for an index node) everything below it.
        if (inBase.has(blockKey(cid))) {
          skipped++
          return false
        }
        if (location === undefined) {
          throw new FerryError(
            'ERR_INCOMPLETE',
            `cannot export head ${record.name}: block ${cid} is missing from this store`,
            {
              details: { name: record.name, cid: cid.toString() },
            },
          )
        }
        blocks.push({ cid, location })
        return true
      },
      options,
    )
  }
  return { blocks, skipped }
}

/**
 * Reads planned blocks from the packs, coalescing neighbours into one read, a
 * few reads ahead; patches made beforehand are given in their place.
 */
async function* readPlanned(
  store: Store,
  planned: Planned[],
  options: AbortOptions,
): AsyncGenerator<Block[]> {
  // A patch has no location: a read of nothing, then the patch itself in its place.
  const locations = planned.map((item) => ('block' in item ? undefined : item.location))
  // Read buffers are reused: the consumer asks for more only once it has written every block of a run.
  const runs = readRuns(store.blocks, locations, { ...options, window: READ_AHEAD, reuseBuffers: true })
  for await (const run of runs) {
    const blocks: Block[] = []
    for (let i = run.start; i < run.end; i++) {
      const item = planned[i]
      blocks.push('block' in item ? item.block : { cid: item.cid, bytes: blockIn(run, item.location) })
    }
    yield blocks
  }
}

function partPath(out: string, index: number, parts: number): string {
  if (parts === 1) return out
  return `${out}.${String(index).padStart(Math.max(3, String(parts).length), '0')}`
}

/**
 * `ferry export`: writes the heads, their DAGs minus the base, as one CARv1
 * archive or as parts of at most `splitBytes`, each a valid CAR with the same
 * root (the envelope) and the envelope, heads and a part marker up front.
 */
export async function exportArchive(store: Store, options: ExportOptions): Promise<ExportResult> {
  if (options.heads.length === 0)
    throw new FerryError('ERR_INVALID_ARGUMENT', 'name at least one head to export')
  const warnings: string[] = []
  const outOptions = { storeDir: store.dir, force: options.force }
  // Refused before the work: a FIFO, a device node, an existing file, the store itself.
  if (options.splitBytes === undefined) await checkOutFile(options.out, outOptions)
  const records = await Promise.all(options.heads.map((name) => store.resolveHead(name)))
  const signed: SignedHead[] = await Promise.all(records.map((record) => store.signedHead(record)))
  const base = await resolveBase(store, options.base ?? [], warnings)
  const { blocks: raw, skipped } = await plan(store, records, base, options)
  const patches =
    options.patches === false || base.length === 0
      ? new Map()
      : await planPatches(
          store,
          records.map((r) => parseCid(r.root)),
          base.map((b) => b.root),
          raw,
          { signal: options.signal, level: options.deltaLevel ?? EXPORT_DELTA_LEVEL },
        )
  let patchBytes = 0
  let patched = 0
  const planned: Planned[] = []
  for (let i = 0; i < raw.length; i++) {
    const patch = patches.get(i)
    if (patch === undefined) {
      planned.push(raw[i])
      continue
    }
    patchBytes += patch.block.bytes.byteLength
    patched += patch.covers
    planned.push({ cid: patch.block.cid, block: patch.block })
    i += patch.covers - 1
  }
  const heads: Block[] = signed.map((s) => ({ cid: s.cid, bytes: s.bytes }))

  // Split planning: every part starts with header, envelope, heads and its marker.
  const envelopeFor = (parts: number): EnvelopeNode => ({
    type: 'envelope',
    heads: signed.map((s) => ({ head: s.cid, signature: s.signature })),
    base,
    parts,
  })
  const probeEnvelope = envelopeNode.encode(envelopeFor(2 ** 31))
  const probePart = partNode.encode({
    type: 'part',
    envelope: probeEnvelope.cid,
    index: 2 ** 31,
    parts: 2 ** 31,
    sections: 2 ** 31,
  })
  const prefixBytes =
    encodeCarHeader([probeEnvelope.cid]).byteLength +
    sectionBytes(probeEnvelope.cid, probeEnvelope.bytes.byteLength) +
    heads.reduce((sum, h) => sum + sectionBytes(h.cid, h.bytes.byteLength), 0) +
    sectionBytes(probePart.cid, probePart.bytes.byteLength)
  const limit = options.splitBytes ?? Number.POSITIVE_INFINITY
  const partSizes: number[] = [] // data blocks per part
  let used = prefixBytes
  let count = 0
  for (const item of planned) {
    const size = sectionBytes(item.cid, plannedBytes(item))
    if (prefixBytes + size > limit) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `--split ${limit} is too small: a part needs at least ${prefixBytes + size} bytes`,
      )
    }
    if (used + size > limit) {
      partSizes.push(count)
      used = prefixBytes
      count = 0
    }
    used += size
    count++
  }
  partSizes.push(count)

  const envelope = envelopeNode.encode(envelopeFor(partSizes.length))
  const total = planned.reduce((sum, p) => sum + plannedBytes(p), 0)
  const result: ExportResult = {
    envelope: envelope.cid.toString(),
    heads: records.map((r) => ({ name: r.name, version: r.version, seq: r.seq, root: r.root })),
    parts: [],
    blocks: raw.length,
    bytes: total,
    skipped,
    patched,
    patchBytes,
    warnings,
  }
  for (let index = 1; index <= partSizes.length; index++)
    await checkOutFile(partPath(options.out, index, partSizes.length), outOptions)
  const source = readPlanned(store, planned, options)
  let pending: Block[] = []
  let done = 0
  for (let index = 1; index <= partSizes.length; index++) {
    const path = partPath(options.out, index, partSizes.length)
    const part = partNode.encode({
      type: 'part',
      envelope: envelope.cid,
      index,
      parts: partSizes.length,
      sections: 2 + heads.length + partSizes[index - 1],
    })
    const writer = await CarFileWriter.create(path, [envelope.cid])
    try {
      await writer.write([envelope, ...heads, part])
      let remaining = partSizes[index - 1]
      while (remaining > 0) {
        if (pending.length === 0) {
          const next = await source.next()
          if (next.done) throw new Error('unreachable: export plan and reads disagree')
          pending = next.value
        }
        const take = pending.slice(0, remaining)
        pending = pending.slice(take.length)
        await writer.write(take)
        remaining -= take.length
        done += take.reduce((sum, b) => sum + b.bytes.byteLength, 0)
        options.onProgress?.(done, total)
      }
      await writer.finish()
    } catch (err) {
      await writer.abort()
      throw err
    }
    result.parts.push({ path, sections: 2 + heads.length + partSizes[index - 1], bytes: writer.bytes })
  }
  return result
}
