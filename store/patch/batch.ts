import type { ByteRange } from '../dag/nodes/index.js'
import type { LeafReference } from './plan.js'

/** Changed leaves sent one after the other that one patch carries, against the merged windows of their base. */
export interface PatchBatch {
  /** The first of the items it stands for, and one past the last. */
  start: number
  end: number
  /** The base file and the ranges of it the patch is made against, in file order, merged. */
  base: LeafReference['base']
  ranges: ByteRange[]
}

export interface BatchLimits {
  /**
   * Most bytes of blocks one patch carries: more gives zstd more context at once, and costs memory
   * and the whole batch raw when the patch is not worth it.
   * @default 1 MiB
   */
  maxTargetBytes?: number
  /** Most base bytes one patch is made against. @default 8 MiB */
  maxBaseBytes?: number
}

/** `ranges` sorted and merged where they overlap or touch. */
export function mergeRanges(ranges: ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const out: ByteRange[] = []
  for (const [offset, length] of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && offset <= last[0] + last[1]) {
      last[1] = Math.max(last[1], offset + length - last[0])
    } else out.push([offset, length])
  }
  return out
}

const spanOf = (ranges: ByteRange[]) => ranges.reduce((sum, [, length]) => sum + length, 0)

/**
 * Groups the items about to be sent, in their order, into patch batches:
 * runs of neighbours that each have a reference into the same base file,
 * within the limits. Items without a reference go raw, as do runs of one
 * whose window is empty.
 */
export function batchPatches(
  items: ReadonlyArray<{ cid: { toString(): string } }>,
  references: ReadonlyMap<string, LeafReference>,
  limits: BatchLimits = {},
): PatchBatch[] {
  const maxTarget = limits.maxTargetBytes ?? 1024 * 1024
  const maxBase = limits.maxBaseBytes ?? 8 * 1024 * 1024
  const batches: PatchBatch[] = []
  let current: (PatchBatch & { bytes: number; windows: ByteRange[] }) | undefined
  const close = () => {
    if (current !== undefined)
      batches.push({ start: current.start, end: current.end, base: current.base, ranges: current.ranges })
    current = undefined
  }
  for (const [index, item] of items.entries()) {
    const reference = references.get(item.cid.toString())
    if (reference === undefined) {
      close()
      continue
    }
    if (current?.base.equals(reference.base) && current.bytes + reference.size <= maxTarget) {
      const ranges = mergeRanges([...current.windows, reference.window])
      if (spanOf(ranges) <= maxBase) {
        current.end = index + 1
        current.bytes += reference.size
        current.windows.push(reference.window)
        current.ranges = ranges
        continue
      }
    }
    close()
    current = {
      start: index,
      end: index + 1,
      base: reference.base,
      ranges: [reference.window],
      bytes: reference.size,
      windows: [reference.window],
    }
  }
  close()
  return batches
}
