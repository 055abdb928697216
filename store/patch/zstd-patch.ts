import { createRequire } from 'node:module'
import type * as ZstdBinding from 'zstd-napi/binding.js'
import { FerryError } from '../errors.js'
import { dropped } from './collect.js'
import { frameContentSize } from './frame.js'

/**
 * zstd-napi's low-level binding (its documented `binding` module): a
 * context kept across patches, any zstd parameter by number, and output
 * into a buffer of ours.
 */
const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding

/** The codec name of patches made here: a zstd frame against a raw-content reference with REFERENCE_PREFIX. */
export const ZSTD_PATCH_CODEC = 'zstd-ref-1'

/**
 * Put before every reference: a reference that happened to start with
 * zstd's dictionary magic (`37 A4 30 EC`) would be read as a formatted
 * dictionary instead of raw content.
 */
const REFERENCE_PREFIX = 0x00

/** Largest window a patch may need (reference and target together): 256 MiB. */
const MAX_WINDOW_LOG = 28

/**
 * `ZSTD_c_forceAttachDict` (experimental, zstd 1.5 as bundled) set to
 * `ZSTD_dictForceLoad`: the reference is loaded into the window as
 * `--patch-from` does with a prefix, so long-distance matching indexes it
 * and finds the far matches in a large reference, fast. By default a large
 * dictionary is attached as tables of its own, which LDM never sees: only
 * the regular tables, sized by the level, look there.
 */
const FORCE_ATTACH_DICT = 1001
const DICT_FORCE_LOAD = 3

/**
 * Largest hash and chain logs at any level: each thread's tables take
 * 4 B an entry (2 × 4 MiB at 20), and long-distance matching finds the far
 * matches that larger tables would.
 */
const MAX_TABLE_LOG = 20

/**
 * Shortest match long-distance matching takes. zstd's 64 lets LDM cut
 * machine code (a few bytes changed every few dozen: relocations) into
 * poor long matches where the regular parser finds better short ones;
 * text's moved runs are far longer.
 */
const LDM_MIN_MATCH = 256

/** How hard to look for matches. @default 3 (fast, for sync); export may ask for more. */
export interface PatchLevel {
  level?: number
}

/** This thread's contexts and scratch buffers, kept across patches (see `scratch`). */
let cctx: ZstdBinding.CCtx | undefined
let dctx: ZstdBinding.DCtx | undefined
let prefixed = new Uint8Array(0)
let output = new Uint8Array(0)

/** Scratch buffers above this are not kept for the next patch (a rare large base or batch). */
const KEEP_SCRATCH = 16 * 1024 * 1024

/** Lets go of scratch buffers grown past KEEP_SCRATCH. */
function trimScratch(): void {
  if (prefixed.byteLength > KEEP_SCRATCH) prefixed = new Uint8Array(0)
  if (output.byteLength > KEEP_SCRATCH) output = new Uint8Array(0)
}

/**
 * The reference with REFERENCE_PREFIX before it, in this thread's scratch
 * buffer (zstd copies a dictionary it loads, so the buffer is free again
 * at once). Reusing buffers and contexts matters: their memory is outside
 * the JavaScript heap, and new ones per patch pile up unseen by the
 * garbage collector (gigabytes over a large export).
 */
function withPrefix(reference: Uint8Array): Uint8Array {
  if (prefixed.byteLength < reference.byteLength + 1) prefixed = new Uint8Array(reference.byteLength + 1)
  prefixed[0] = REFERENCE_PREFIX
  prefixed.set(reference, 1)
  return prefixed.subarray(0, reference.byteLength + 1)
}

/** The window log that covers the reference and the target: zstd only matches within its window. */
function windowLogFor(bytes: number): number {
  return Math.min(MAX_WINDOW_LOG, Math.max(10, Math.ceil(Math.log2(bytes + 1))))
}

/**
 * A patch that turns `reference` into `target`: a zstd frame with the
 * reference as raw-content dictionary, loaded into the window (as `zstd
 * --long --patch-from` does) with long-distance matching on, and hash and
 * chain tables sized for the window but capped (MAX_TABLE_LOG).
 */
export function makePatch(target: Uint8Array, reference: Uint8Array, options: PatchLevel = {}): Uint8Array {
  const level = options.level ?? 3
  const windowLog = windowLogFor(reference.byteLength + 1 + target.byteLength)
  const tableLog = Math.min(windowLog, MAX_TABLE_LOG)
  cctx ??= new zstd.CCtx()
  const context = cctx
  // Parameters and dictionary go; the context's tables stay allocated for the next patch.
  context.reset(zstd.ResetDirective.parameters)
  try {
    const set = (param: number, value: number) => context.setParameter(param, value)
    set(zstd.CParameter.compressionLevel, level)
    set(zstd.CParameter.windowLog, windowLog)
    set(zstd.CParameter.hashLog, tableLog)
    set(zstd.CParameter.chainLog, tableLog)
    set(zstd.CParameter.enableLongDistanceMatching, 1)
    set(zstd.CParameter.ldmMinMatch, LDM_MIN_MATCH)
    set(zstd.CParameter.contentSizeFlag, 1)
    set(zstd.CParameter.checksumFlag, 0)
    try {
      set(FORCE_ATTACH_DICT, DICT_FORCE_LOAD)
    } catch {
      // A zstd without it still makes valid patches, only larger ones.
    }
    context.loadDictionary(withPrefix(reference))
    const bound = zstd.compressBound(target.byteLength)
    if (output.byteLength < bound) output = new Uint8Array(bound)
    const length = context.compress2(output, target)
    return output.slice(0, length)
  } finally {
    // Drops zstd's copy of the reference until the next patch.
    context.reset(zstd.ResetDirective.parameters)
    trimScratch()
    // The caller drops both now (a patch thread's task, copied in).
    dropped(target.byteLength + reference.byteLength)
  }
}

/**
 * Expands a patch with the reference it was made against. The frame must
 * declare exactly `size` bytes before anything is decompressed (a huge
 * declared size is refused without allocating), and give exactly that many.
 * The caller verifies the bytes against the target's CID.
 */
export function applyPatch(patch: Uint8Array, reference: Uint8Array, size: number, name: string): Uint8Array {
  const declared = frameContentSize(patch)
  if (declared !== size) {
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} declares ${declared === undefined ? 'no content size' : `${declared} bytes`}, its node says ${size}`,
      { details: { target: name, declared, size } },
    )
  }
  dctx ??= new zstd.DCtx()
  const context = dctx
  const out = new Uint8Array(size)
  let length: number
  try {
    context.reset(zstd.ResetDirective.parameters)
    context.setParameter(zstd.DParameter.windowLogMax, MAX_WINDOW_LOG)
    context.loadDictionary(withPrefix(reference))
    length = context.decompress(out, patch)
  } catch (cause) {
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} does not expand: ${(cause as Error).message}`,
      {
        cause,
        details: { target: name },
      },
    )
  } finally {
    // Drops zstd's copy of the reference.
    context.reset(zstd.ResetDirective.parameters)
    trimScratch()
  }
  if (length !== size) {
    throw new FerryError('ERR_CORRUPT_BLOCK', `patch for ${name} expands to ${length} bytes, not ${size}`, {
      details: { target: name, size, got: length },
    })
  }
  return out
}
