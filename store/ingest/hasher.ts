import { Worker } from 'node:worker_threads'
import type { Arena } from './arena.js'
import type { HashReply, HashRequest } from './hash-worker.js'

/** An arena the thread holds a view of: jobs sent on it and not answered, and whether it is to be forgotten. */
interface Attached {
  jobs: number
  dropped: boolean
  /** Called when `jobs` next falls to 0. */
  settled: Array<() => void>
}

/** One hashing thread; requests are answered in order, so a FIFO of pending promises matches replies. */
class HashThread {
  private worker?: Worker
  private readonly pending: Array<{ resolve: (reply: HashReply) => void; reject: (err: Error) => void }> = []
  private readonly attached = new Map<number, Attached>()

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
    let held: Attached | undefined
    if (arena !== undefined) {
      held = this.attached.get(arena.id)
      if (held === undefined) {
        held = { jobs: 0, dropped: arena.dropped, settled: [] }
        this.attached.set(arena.id, held)
        this.pending.push({ resolve: () => {}, reject: () => {} })
        worker.postMessage({ type: 'arena', arena: arena.id, buffer: arena.buffer } satisfies HashRequest)
      }
      // Used again after a drop (it should not be): attached again, and forgotten when its jobs end.
      held.jobs++
    }
    const reply = new Promise<HashReply>((resolve, reject) => {
      this.pending.push({ resolve, reject })
      worker.ref()
      worker.postMessage(message, transfer)
    })
    if (held === undefined || arena === undefined) return reply
    const id = arena.id
    const settled = () => {
      held.jobs--
      if (held.jobs === 0) for (const done of held.settled.splice(0)) done()
      this.forgetIfDone(id, held)
    }
    reply.then(settled, settled)
    return reply
  }

  /**
   * The thread is to let go of `arena` (its pool dropped it): at once when no
   * job sent on it is unanswered, else when the last one answers. Forgetting
   * earlier would leave a queued job reading an arena the thread no longer has.
   */
  drop(arena: Arena): void {
    const held = this.attached.get(arena.id)
    if (held === undefined) return
    held.dropped = true
    this.forgetIfDone(arena.id, held)
  }

  /** Resolves once every job sent on `arena` so far has answered (or failed). */
  settled(arena: Arena): Promise<void> {
    const held = this.attached.get(arena.id)
    if (held === undefined || held.jobs === 0) return Promise.resolve()
    return new Promise((resolve) => held.settled.push(resolve))
  }

  private forgetIfDone(id: number, held: Attached): void {
    if (!held.dropped || held.jobs > 0 || this.attached.get(id) !== held) return
    this.attached.delete(id)
    // No reply: the FIFO of pending replies is not touched.
    this.worker?.postMessage({ type: 'forget', arena: id } satisfies HashRequest)
  }

  /** How many arenas the thread itself holds views of (asked of it, after the jobs before). */
  async held(): Promise<number> {
    if (this.worker === undefined) return 0
    const reply = await this.request({ type: 'held' })
    if (reply.type !== 'held') throw new Error('hasher: reply out of order')
    return reply.arenas
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

  /**
   * Lets the threads forget `arena`, which its pool dropped (a refused read
   * left slots held): each thread lets go once every job it was sent on that
   * arena has answered, so the arena's memory can be freed.
   */
  drop(arena: Arena): void {
    arena.dropped = true
    this.whole.drop(arena)
    this.chunk.drop(arena)
  }

  /** Resolves once every job sent on `arena` so far has answered: the threads no longer read it. */
  async settled(arena: Arena): Promise<void> {
    await Promise.all([this.whole.settled(arena), this.chunk.settled(arena)])
  }

  /** Arenas the threads hold views of, counted by the threads themselves (for tests). */
  async heldArenas(): Promise<number> {
    const [whole, chunk] = await Promise.all([this.whole.held(), this.chunk.held()])
    return whole + chunk
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
