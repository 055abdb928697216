/**
 * The patch pool's worker (pool.ts): makes one zstd delta a task, off the
 * main thread. Its result is moved back, not copied.
 */
import { Piscina } from 'piscina'
import { makePatch } from './zstd-patch.js'

/** One delta to make: `target` against `reference` at `level`. */
export interface PatchTask {
  target: Uint8Array
  reference: Uint8Array
  level: number
}

export default function makePatchTask(task: PatchTask): unknown {
  const bytes = makePatch(task.target, task.reference, { level: task.level })
  // Moved only when it owns its whole buffer; a view of a larger one is copied out first.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
  return Piscina.move(own)
}
