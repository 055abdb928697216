import { Worker } from 'node:worker_threads'
import type { Arena } from './arena.js'
import type { HashReply, HashRequest } from './hash-worker.js'

/** One hashing thread; requests are answered in order, so a FIFO of pending promises matches replies. */
class HashThread {
  private worker?: Worker
  private readonly pending: Array<{ resolve: (reply: HashReply) => void; reject: (err: Error) => void }> = []
  private readonly attached = new Set<number>()

  private start(): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url))
    worker.on('message', (reply: HashReply) => {
      this.pending.shift()?.resolve(reply)
      // Referenced only while busy: an idle hasher never keeps the process alive.
      if (this.pending.length === 0) worker.unref()
    })
    worker.on('error', (err) => {
      for (const p of this.pending.splice(0)) p.reject(err)
      this.worker = undefined
      this.attached.clear()
    })
    worker.unref()
    this.worker = worker
    return worker
  }

  request(message: HashRequest, arena?: Arena, transfer: ArrayBuffer[] = []): Promise<HashReply> {
    const worker = this.start()
    if (arena !== undefined && !this.attached.has(arena.id)) {
      this.attached.add(arena.id)
      this.pending.push({ resolve: () => {}, reject: () => {} })
      worker.postMessage({ type: 'arena', arena: arena.id, buffer: arena.buffer } satisfies HashRequest)
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject })
      worker.ref()
      worker.postMessage(message, transfer)
    })
  }

  /** Requests sent and not yet answered. */
  get backlog(): number {
    return this.pending.length
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    this.attached.clear()
    if (worker !== undefined) await worker.terminate()
  }
}

/**
 * The hashing threads shared by every ingest in this process: one keeps the
 * running whole-file hashes (a serial chain per file), one hashes chunks.
 * With the main thread cutting, the three stages overlap on two cores.
 */
export class Hasher {
  private readonly whole = new HashThread()
  private readonly chunk = new HashThread()
  private nextJob = 1

  /** A new whole-file hash; pass the job number to `update` and `finish`. */
  open(): number {
    return this.nextJob++
  }

  /** Feeds `arena[start..end)` to the job's whole-file hash; resolves once those bytes were read. */
  async update(job: number, arena: Arena, start: number, end: number): Promise<void> {
    await this.whole.request({ type: 'update', job, arena: arena.id, start, end }, arena)
  }

  /** sha256 of the chunks `[start..cuts[0])`, `[cuts[0]..cuts[1])`, … of the arena: 32 bytes each. */
  async chunks(arena: Arena, start: number, cuts: number[]): Promise<Uint8Array> {
    const reply = await this.chunk.request({ type: 'chunks', arena: arena.id, start, cuts }, arena)
    if (reply.type !== 'chunks') throw new Error('hasher: reply out of order')
    return reply.digests
  }

  /**
   * sha256 of arbitrary ranges `[start0, end0, start1, end1, …]` of the arena
   * (archive blocks): 32 bytes each. Spread over both threads, since import
   * has no whole-file hash to keep.
   */
  async ranges(arena: Arena, ranges: number[]): Promise<Uint8Array> {
    const thread = this.whole.backlog <= this.chunk.backlog ? this.whole : this.chunk
    const reply = await thread.request({ type: 'ranges', arena: arena.id, ranges }, arena)
    if (reply.type !== 'chunks') throw new Error('hasher: reply out of order')
    return reply.digests
  }

  /**
   * sha256 of ranges `[start0, end0, start1, end1, …]` of `buffer`, which is
   * handed to a hashing thread (transferred: unusable here meanwhile) and
   * handed back with the digests (32 bytes each): for bytes not in an arena
   * (pack reads being served). Spread over both threads.
   */
  async owned(buffer: ArrayBuffer, ranges: number[]): Promise<{ digests: Uint8Array; buffer: ArrayBuffer }> {
    const thread = this.whole.backlog <= this.chunk.backlog ? this.whole : this.chunk
    const reply = await thread.request({ type: 'owned', buffer, ranges }, undefined, [buffer])
    if (reply.type !== 'owned') throw new Error('hasher: reply out of order')
    return { digests: reply.digests, buffer: reply.buffer }
  }

  /** The job's whole-file sha256, hex. */
  async finish(job: number): Promise<string> {
    const reply = await this.whole.request({ type: 'finish', job })
    if (reply.type !== 'finish') throw new Error('hasher: reply out of order')
    return reply.sha256
  }

  async close(): Promise<void> {
    await Promise.all([this.whole.close(), this.chunk.close()])
  }
}
