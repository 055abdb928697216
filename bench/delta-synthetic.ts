/*
 * The delta benchmark's synthetic pair: a pseudo-random file and a copy with
 * a few hundred scattered small edits (inserts and replacements of 1–100
 * bytes), all from a fixed seed, so the same bytes on every machine.
 */
import { rename, writeFile } from 'node:fs/promises'
import { PseudoRandom } from './data.js'

/** Size of the synthetic old file. */
export const SYNTHETIC_BYTES = 64 * 1024 * 1024
/** Edits applied to make the new file. */
export const SYNTHETIC_EDITS = 300
/** Longest insert or replacement. */
const EDIT_MAX_BYTES = 100

/** One edit, in the old file's coordinates. */
interface Edit {
  offset: number
  /** Bytes of the old file replaced (0 for an insert). */
  replaced: number
  bytes: Buffer
}

/** A number in [0, bound) from the stream. */
function below(random: PseudoRandom, bound: number): number {
  return random.next(4).readUInt32LE(0) % bound
}

/** SYNTHETIC_EDITS edits at pseudo-random offsets, ascending and not overlapping. */
function edits(seed: string, size: number): Edit[] {
  const random = new PseudoRandom(`${seed}/edits`)
  const offsets = Array.from({ length: SYNTHETIC_EDITS }, () => below(random, size - EDIT_MAX_BYTES))
  offsets.sort((a, b) => a - b)
  const list: Edit[] = []
  let end = 0
  for (const offset of offsets) {
    if (offset < end) continue
    const length = 1 + below(random, EDIT_MAX_BYTES)
    const replaced = below(random, 2) === 0 ? 0 : length
    list.push({ offset, replaced, bytes: random.next(length) })
    end = offset + replaced
  }
  return list
}

/** How many edits the pair of `seed` makes (fewer than SYNTHETIC_EDITS when offsets collide). */
export function syntheticEditCount(seed: string): number {
  return edits(seed, SYNTHETIC_BYTES).length
}

/** Writes the synthetic pair to `oldPath` and `newPath` (each through a temporary name); returns the edits made. */
export async function writeSyntheticPair(oldPath: string, newPath: string, seed: string): Promise<number> {
  const old = new PseudoRandom(seed).next(SYNTHETIC_BYTES)
  const parts: Buffer[] = []
  let from = 0
  const list = edits(seed, SYNTHETIC_BYTES)
  for (const edit of list) {
    parts.push(old.subarray(from, edit.offset), edit.bytes)
    from = edit.offset + edit.replaced
  }
  parts.push(old.subarray(from))
  await writeFile(`${oldPath}.partial`, old)
  await writeFile(`${newPath}.partial`, Buffer.concat(parts))
  await rename(`${oldPath}.partial`, oldPath)
  await rename(`${newPath}.partial`, newPath)
  return list.length
}
