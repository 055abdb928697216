import { Compressor, Decompressor } from 'zstd-napi'
import { FerryError } from '../errors.js'
import { frameContentSize } from './frame.js'

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
 * Largest hash and chain tables at low levels: 2^20 entries, 4 MiB each, so a thread's context
 * stays near 60 MiB (measured: 2^22 took 95 MiB a thread, 2^24 several times that).
 */
const MAX_TABLE_LOG = 20

/** How hard to look for matches. @default 3 (fast, for sync); export may ask for more. */
export interface PatchLevel {
  level?: number
}

/*
 * One context of each kind a thread, reused: a zstd context holds its tables (tens of MiB at large
 * windows) in native memory that V8 does not count, so one a patch piles up gigabytes before a
 * collection frees them. setParameters resets a context, dictionary and all.
 */
let compressor: Compressor | undefined
let decompressor: Decompressor | undefined

function withPrefix(reference: Uint8Array): Uint8Array {
  const out = new Uint8Array(reference.byteLength + 1)
  out[0] = REFERENCE_PREFIX
  out.set(reference, 1)
  return out
}

/** The window log that covers the reference and the target: zstd only matches within its window. */
function windowLogFor(bytes: number): number {
  return Math.min(MAX_WINDOW_LOG, Math.max(10, Math.ceil(Math.log2(bytes + 1))))
}

/**
 * A patch that turns `reference` into `target`: a zstd frame with the
 * reference as raw-content dictionary, the window covering both, and hash
 * and chain tables raised at low levels (with the defaults a large
 * reference loses most of its matches).
 */
export function makePatch(target: Uint8Array, reference: Uint8Array, options: PatchLevel = {}): Uint8Array {
  const level = options.level ?? 3
  const windowLog = windowLogFor(reference.byteLength + 1 + target.byteLength)
  compressor ??= new Compressor()
  compressor.setParameters({
    compressionLevel: level,
    windowLog,
    ...(level <= 9
      ? { hashLog: Math.min(windowLog, MAX_TABLE_LOG), chainLog: Math.min(windowLog, MAX_TABLE_LOG) }
      : {}),
    contentSizeFlag: true,
    checksumFlag: false,
  })
  compressor.loadDictionary(withPrefix(reference))
  return compressor.compress(target)
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
  decompressor ??= new Decompressor()
  decompressor.setParameters({ windowLogMax: MAX_WINDOW_LOG })
  decompressor.loadDictionary(withPrefix(reference))
  let out: Uint8Array
  try {
    out = decompressor.decompress(patch)
  } catch (cause) {
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} does not expand: ${(cause as Error).message}`,
      {
        cause,
        details: { target: name },
      },
    )
  }
  if (out.byteLength !== size) {
    throw new FerryError(
      'ERR_CORRUPT_BLOCK',
      `patch for ${name} expands to ${out.byteLength} bytes, not ${size}`,
      {
        details: { target: name, size, got: out.byteLength },
      },
    )
  }
  return out
}
