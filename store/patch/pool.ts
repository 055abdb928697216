import { availableParallelism } from 'node:os'
import type { Piscina } from 'piscina'
import type { PatchTask } from './patch-worker.js'

/** What a patch pool is given. */
export interface PatchPoolInit {
  /**
   * Threads making patches at once.
   * @default the CPUs but one (the main thread reads, sends and writes meanwhile), at most 4
   */
  threads?: number
}

/**
 * The threads that make patches (zstd deltas are CPU-bound: a batch of
 * changed chunks takes milliseconds to tens of them), so an export or a sync
 * answer keeps reading and sending while they compress. Idle threads exit;
 * the pool never keeps the process alive. piscina is loaded at the first
 * patch: every store has a pool, few commands make patches.
 */
export class PatchPool {
  private pool?: Promise<Piscina>
  /** Threads the pool runs at most: how many tasks to keep in flight. */
  readonly threads: number

  constructor(init: PatchPoolInit = {}) {
    this.threads = Math.max(1, init.threads ?? Math.min(4, availableParallelism() - 1))
  }

  private started(): Promise<Piscina> {
    this.pool ??= import('piscina').then(
      ({ Piscina }) =>
        new Piscina({
          filename: new URL('./patch-worker.js', import.meta.url).href,
          minThreads: 0,
          maxThreads: this.threads,
          idleTimeout: 2_000,
          // Each zstd context with large tables takes tens of MiB: one task a thread.
          concurrentTasksPerWorker: 1,
        }),
    )
    return this.pool
  }

  /**
   * The delta that turns `reference` into `target`. Both are moved to the
   * thread, not copied, when each owns its whole buffer (then they are no
   * longer usable here); views of larger buffers are copied.
   */
  async make(
    target: Uint8Array,
    reference: Uint8Array,
    level: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const task: PatchTask = { target, reference, level }
    const transferList = [target, reference].filter(ownsBuffer).map((bytes) => bytes.buffer as ArrayBuffer)
    return (await this.started()).run(task, { signal, transferList: [...new Set(transferList)] })
  }

  /** Stops the threads (nothing to stop when no patch was made). */
  async close(): Promise<void> {
    await (await this.pool)?.destroy()
  }
}

/** Whether `bytes` is the whole of a movable buffer (not a view of a pool or a larger read). */
function ownsBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  )
}
