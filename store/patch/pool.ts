import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
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
 * the pool never keeps the process alive.
 */
export class PatchPool {
  private readonly pool: Piscina
  /** Threads the pool runs at most: how many tasks to keep in flight. */
  readonly threads: number

  constructor(init: PatchPoolInit = {}) {
    this.threads = Math.max(1, init.threads ?? Math.min(4, availableParallelism() - 1))
    this.pool = new Piscina({
      filename: new URL('./patch-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: 2_000,
      // Each zstd context with large tables takes tens of MiB: one task a thread.
      concurrentTasksPerWorker: 1,
    })
  }

  /** The delta that turns `reference` into `target`. */
  make(target: Uint8Array, reference: Uint8Array, level: number, signal?: AbortSignal): Promise<Uint8Array> {
    const task: PatchTask = { target, reference, level }
    return this.pool.run(task, { signal })
  }

  /** Stops the threads. */
  close(): Promise<void> {
    return this.pool.destroy()
  }
}

let shared: PatchPool | undefined

/** The pool this process shares. */
export function patchPool(): PatchPool {
  shared ??= new PatchPool()
  return shared
}
