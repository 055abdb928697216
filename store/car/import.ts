import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { DAG_CBOR, decodeNode } from '../blocks/cid.js'
import { FileNodeCache } from '../dag/file-node-cache.js'
import { type EnvelopeNode, type PartNode, type PatchNode, patchNode, typeOf } from '../dag/nodes/index.js'
import { FerryError, isFerryError } from '../errors.js'
import type { Arena } from '../ingest/arena.js'
import { type ReadInto, readFromHandle } from '../ingest/slot-reader.js'
import { expandPatch } from '../patch/index.js'
import { type SignedHead, signedHeadFrom } from '../sign/heads.js'
import type { Store } from '../store.js'
import { systemError } from '../system-error.js'
import { decodeEnvelope, decodePart } from './envelope.js'
import { forgetImport, missingParts, recordPart } from './pending.js'
import { type ArchiveBlock, type CarStream, readCar } from './reader.js'

export interface ImportOptions extends AbortOptions {
  /** Accept heads whose seq is not above the current one. @default false */
  allowDowngrade?: boolean
  /** Bytes read of this archive, of its size. */
  onProgress?: (done: number, total: number) => void
}

export interface HeadOutcome {
  name: string
  version: string
  seq: number
  root: string
  /** published now; current: already published here; waiting: blocks still missing (more parts to come). */
  status: 'published' | 'current' | 'waiting'
  missingBlocks: number
  missingBytes: number
}

export interface ImportResult {
  file: string
  envelope: string
  part: { index: number; parts: number }
  /** Data blocks in the archive (as themselves or inside patches), and how many of them (and bytes) were new here. */
  blocks: number
  newBlocks: number
  newBytes: number
  heads: HeadOutcome[]
  /** When heads wait for more parts: the part numbers not imported here yet, and their likely file names. */
  waitingFor?: { parts: number[]; files: string[] }
}

/**
 * Imports commit every 16 MiB: an interrupted import (a pulled disk, a
 * killed process) then redoes at most that much when it is run again.
 */
const IMPORT_FLUSH_BYTES = 16 * 1024 * 1024

/** The archive files an argument names: itself, or the files of a folder (parts in name order). */
export async function archiveFiles(paths: string[]): Promise<string[]> {
  const out: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch((cause) => {
      throw new FerryError('ERR_NOT_FOUND', `${path}: no such archive file or folder`, { cause })
    })
    if (!info.isDirectory()) {
      out.push(path)
      continue
    }
    const names = (await readdir(path)).filter((name) => !name.endsWith('.partial')).sort()
    for (const name of names) if ((await stat(join(path, name))).isFile()) out.push(join(path, name))
  }
  return out
}

/** Takes the next verified block or fails saying what the archive lacks. */
async function take(blocks: AsyncGenerator<ArchiveBlock>, what: string): Promise<ArchiveBlock> {
  const next = await blocks.next()
  if (next.done) throw new FerryError('ERR_BAD_ARCHIVE', `the archive ends before its ${what}`)
  return next.value
}

/**
 * `ferry import` of one archive file: streams it once, verifying every block
 * as it is read and storing the new ones; checks signatures, trust and seq
 * before storing anything; publishes each head only when its DAG is
 * complete, all of them in one write. A truncated or damaged archive, an
 * untrusted publisher or an older seq change no head.
 */
export async function importArchive(
  store: Store,
  file: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  try {
    return await importFile(store, file, options)
  } catch (err) {
    throw namingFile(err, file)
  }
}

/** A refusal names the archive file it is about (a folder import reads many). */
function namingFile(err: unknown, file: string): unknown {
  if (!isFerryError(err) || err.message.includes(file)) return err
  return new FerryError(err.code, `${file}: ${err.message}`, { cause: err, details: err.details })
}

async function importFile(store: Store, file: string, options: ImportOptions): Promise<ImportResult> {
  const handle = await open(file, 'r').catch((err: unknown) => {
    throw err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? new FerryError('ERR_NOT_FOUND', `${file}: no such archive file`, { cause: err })
      : systemError(err, file)
  })
  let arena: Arena
  try {
    arena = store.pipeline.importArenas.acquire()
  } catch (err) {
    // No memory for an arena: the archive must not stay open.
    await handle.close()
    throw err
  }
  const before = store.blocks.written()
  let car: CarStream | undefined
  try {
    const { size } = await handle.stat()
    const fromFile = readFromHandle(handle)
    const read: ReadInto = (target, offset, length) =>
      fromFile(target, offset, length).catch((err: unknown) => {
        throw systemError(err, file)
      })
    car = readCar(read, arena, store.pipeline.hasher, {
      signal: options.signal,
      onProgress: (done) => options.onProgress?.(done, size),
    })
    const blocks = car.blocks
    const release = (block: Block) => {
      const slot = arena.slotOf(block.bytes)
      if (slot !== undefined) arena.release(slot)
    }

    // The start of every part: envelope (the root), its heads, the part marker.
    const first = await take(blocks, 'envelope')
    const roots = await car.roots()
    if (roots.length !== 1 || !roots[0].equals(first.cid)) {
      throw new FerryError(
        'ERR_BAD_ARCHIVE',
        `${file}: the first block is not the archive's root (not a ferry archive)`,
      )
    }
    const envelope: EnvelopeNode = decodeEnvelope(first.cid, first.bytes)
    release(first)
    const heads: SignedHead[] = []
    for (const { head, signature } of envelope.heads) {
      const block = await take(blocks, `head ${head}`)
      if (!block.cid.equals(head))
        throw new FerryError('ERR_BAD_ARCHIVE', `${file}: expected head ${head}, found ${block.cid}`)
      heads.push(signedHeadFrom(block.cid, block.bytes.slice(), signature))
      release(block)
    }
    const markerBlock = await take(blocks, 'part marker')
    const part: PartNode = decodePart(markerBlock.cid, markerBlock.bytes, first.cid)
    release(markerBlock)
    // Refuse before storing a byte: bad signature, untrusted key, rollback.
    for (const signed of heads) await store.admit(signed, options)

    let sections = 2 + heads.length
    /** Data blocks the part carries, as themselves or inside patches. */
    let carried = 0
    const bases = new Map<string, Promise<boolean>>()
    // The base files' index nodes, decoded once for all the patches made against them.
    const nodes = new FileNodeCache(8)
    const baseHeld = (root: PatchNode['base']['root']) => {
      let held = bases.get(root.toString())
      if (held === undefined) {
        held = store.completeness.isComplete(root, options)
        bases.set(root.toString(), held)
      }
      return held
    }
    /** What this part brings, for gc to keep while the import waits for other parts. */
    const brought: Block['cid'][] = []
    async function* rest(): AsyncGenerator<Block> {
      for await (const block of blocks) {
        sections++
        carried++
        const patch = patchIn(block)
        if (patch === undefined) {
          brought.push(block.cid)
          yield block
          continue
        }
        // A patch: the block it stands for, expanded from what this store holds and verified; the patch is not kept.
        release(block)
        // Its base not here (the delta's base release is missing): the target stays missing, and the
        // import ends ERR_INCOMPLETE naming that release, as for any delta without its base.
        carried += patch.targets.length - 1
        if (!(await baseHeld(patch.base.root))) continue
        const expanded = await expandPatch(store.blocks, patch, { nodes })
        for (const target of expanded) brought.push(target.cid)
        yield* expanded
      }
    }
    const onStored = (stored: Block[]) => {
      for (const block of stored) release(block)
    }
    for await (const _ of store.blocks.putHashed(rest(), {
      signal: options.signal,
      onStored,
      flushBytes: IMPORT_FLUSH_BYTES,
    })) {
      // durable once yielded
    }
    if (sections !== part.sections) {
      throw new FerryError(
        'ERR_BAD_ARCHIVE',
        `${file}: part ${part.index}/${part.parts} holds ${sections} sections, its marker says ${part.sections} (truncated?)`,
      )
    }
    const after = store.blocks.written()
    const outcomes = await settleHeads(store, envelope, heads, options)
    const envelopeCid = first.cid.toString()
    const waiting = outcomes.filter((o) => o.status === 'waiting')
    let waitingFor: ImportResult['waitingFor']
    if (waiting.length === 0) await forgetImport(store, envelopeCid)
    else {
      const record = await recordPart(
        store,
        envelopeCid,
        { index: part.index, parts: part.parts, file },
        heads
          .filter((signed) => waiting.some((o) => o.root === signed.head.root.toString()))
          .map(({ head }) => ({
            name: head.name,
            version: head.version,
            seq: head.seq,
            publisher: head.publisher,
            root: head.root.toString(),
          })),
        brought,
      )
      const parts = missingParts(record)
      waitingFor = { parts, files: parts.flatMap((index) => partFile(file, index) ?? []) }
    }
    return {
      file,
      envelope: envelopeCid,
      part: { index: part.index, parts: part.parts },
      blocks: carried,
      newBlocks: after.blocks - before.blocks,
      newBytes: after.bytes - before.bytes,
      heads: outcomes,
      ...(waitingFor === undefined ? {} : { waitingFor }),
    }
  } finally {
    // The reader ends first: its read in flight settles before the file closes.
    try {
      await car?.blocks.return(undefined).catch(() => {})
      // A refused archive leaves slots held by blocks nobody will store: nothing here reads them any
      // more (the writer settles before it throws), so the arena is reused once the threads are done.
      await store.pipeline.importArenas.reclaim(arena)
    } finally {
      await handle.close()
    }
  }
}

/** The file name part `index` has next to `file`, when `file` is named as export names parts (`NAME.001`). */
function partFile(file: string, index: number): string | undefined {
  const match = /\.\d{3}$/.exec(file)
  return match === null ? undefined : `${file.slice(0, match.index)}.${String(index).padStart(3, '0')}`
}

/** `"type": "patch"` as dag-cbor writes it: two text strings of 4 and 5 bytes. */
const PATCH_TYPE = Buffer.from([0x64, ...Buffer.from('type'), 0x65, ...Buffer.from('patch')])

/** The patch node `block` is, if it is one (a dag-cbor block whose type is `patch`). */
function patchIn(block: Block): PatchNode | undefined {
  if (block.cid.code !== DAG_CBOR) return undefined
  // dag-cbor orders map keys by length, then bytes: a patch node's `type: "patch"` comes after only its
  // `base` map, within its first few hundred bytes. Anything else (file nodes of 8,192 links) is not
  // decoded here; the walk decodes it later.
  if (
    Buffer.from(block.bytes.buffer, block.bytes.byteOffset, Math.min(block.bytes.byteLength, 512)).indexOf(
      PATCH_TYPE,
    ) < 0
  )
    return undefined
  let value: unknown
  try {
    value = decodeNode(block.cid, block.bytes)
  } catch {
    return undefined // a malformed node is stored and found by the walk, as before
  }
  return typeOf(value) === 'patch' ? patchNode.check(block.cid, value) : undefined
}

/**
 * After the blocks are in: publishes the heads whose DAG is complete (in one
 * write), reports the others. ERR_INCOMPLETE when they cannot complete from
 * more parts: the delta's base is missing here, or a whole archive lacks blocks.
 */
async function settleHeads(
  store: Store,
  envelope: EnvelopeNode,
  heads: SignedHead[],
  options: ImportOptions,
): Promise<HeadOutcome[]> {
  const missingBase = []
  for (const base of envelope.base) {
    if (!(await store.completeness.isComplete(base.root))) missingBase.push(base)
  }
  const outcomes: HeadOutcome[] = []
  const ready: SignedHead[] = []
  for (const signed of heads) {
    const { head } = signed
    const missing = await store.completeness.missingSummary(head.root, options)
    // publishHeads checks completeness once more (and marks it) before the one write.
    const complete = missing.blocks === 0
    const status = complete
      ? (await store.admit(signed, options)) === 'current'
        ? 'current'
        : 'published'
      : 'waiting'
    if (status === 'published') ready.push(signed)
    outcomes.push({
      name: head.name,
      version: head.version,
      seq: head.seq,
      root: head.root.toString(),
      status,
      missingBlocks: missing.blocks,
      missingBytes: missing.bytes,
    })
  }
  const waiting = outcomes.filter((o) => o.status === 'waiting')
  if (waiting.length > 0 && missingBase.length > 0) {
    const names = missingBase.map((b) => (b.name ? `${b.name} ${b.version} (${b.root})` : b.root.toString()))
    throw new FerryError(
      'ERR_INCOMPLETE',
      `this archive is a delta against ${names.join(', ')}, which this store does not hold: import that release first, or export again with --base an inventory from here; ${describe(waiting)}`,
      { details: { base: missingBase.map((b) => b.root.toString()), heads: waiting } },
    )
  }
  if (waiting.length > 0 && envelope.parts === 1) {
    throw new FerryError(
      'ERR_INCOMPLETE',
      `the archive does not hold everything its heads need: ${describe(waiting)}`,
      {
        details: { heads: waiting },
      },
    )
  }
  if (ready.length > 0) await store.publishHeads(ready, options)
  return outcomes
}

function describe(waiting: HeadOutcome[]): string {
  return waiting
    .map((o) => `${o.name} ${o.version} lacks ${o.missingBlocks} block(s), ${o.missingBytes} bytes`)
    .join('; ')
}
