import { createScanner, type GearScanner, TABLE_BYTES } from '../chunk/chunker.js'

/** Bytes read from a source at a time. */
export const READ_BYTES = 4 * 1024 * 1024

let nextArenaId = 1

/**
 * A fixed set of read buffers in one shared WebAssembly memory: the gear
 * scanner cuts them in place, the hashing thread hashes them in place, and
 * they are reused across reads, so that ingest and import allocate nothing
 * per buffer (fresh buffers cost page faults and unmaps, which dominate on
 * a VM). A slot is reference-counted: one reference while it is being
 * filled and cut, one per block cut from it until that block is written.
 *
 * A slot is `front` bytes of room for the previous read's unfinished tail
 * (an uncut chunk when ingesting, a partial archive section when importing),
 * then one read of READ_BYTES.
 */
export class Arena {
  readonly id = nextArenaId++
  readonly buffer: SharedArrayBuffer
  readonly scanner: GearScanner
  readonly slots: number
  readonly front: number
  /** Room for one read after the front. */
  readonly readBytes: number
  readonly slotBytes: number
  /** Set when its pool dropped it: whoever else held it lets go once done (HashThread). */
  dropped = false
  private readonly refs: number[]
  private readonly free: number[]
  private readonly waiting: Array<(slot: number) => void> = []

  /** `readBytes` is the room after the front (ingest and import read READ_BYTES at a time). */
  constructor(slots: number, front: number, readBytes = READ_BYTES) {
    this.slots = slots
    this.front = front
    this.readBytes = readBytes
    this.slotBytes = front + readBytes
    this.scanner = createScanner(slots * this.slotBytes)
    this.buffer = this.scanner.memory.buffer as SharedArrayBuffer
    this.refs = new Array(slots).fill(0)
    this.free = Array.from({ length: slots }, (_, i) => i)
  }

  /** True when a slot can be had without waiting. */
  hasFree(): boolean {
    return this.free.length > 0
  }

  /** True when no slot is in use. */
  isIdle(): boolean {
    return this.free.length === this.slots
  }

  /**
   * A free slot, with one reference held; waits for one to be released if
   * none is free. An abort while waiting rejects and leaves the queue.
   */
  acquire(signal?: AbortSignal): Promise<number> {
    const slot = this.free.pop()
    if (slot !== undefined) {
      this.refs[slot] = 1
      return Promise.resolve(slot)
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(signal?.reason ?? new Error('aborted'))
      }
      const waiter = (got: number) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(got)
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(waiter)
    })
  }

  /**
   * Frees every slot, whatever references they hold: for an arena whose
   * reader gave up (a refused import), once nothing reads its bytes any more.
   * False, and nothing changed, while someone waits for a slot.
   */
  reset(): boolean {
    if (this.waiting.length > 0) return false
    this.refs.fill(0)
    this.free.length = 0
    for (let slot = 0; slot < this.slots; slot++) this.free.push(slot)
    return true
  }

  retain(slot: number, count = 1): void {
    this.refs[slot] += count
  }

  release(slot: number, count = 1): void {
    // A free slot is not freed twice (a late release after reset() would hand it to two readers).
    if (this.refs[slot] <= 0) return
    this.refs[slot] -= count
    if (this.refs[slot] > 0) return
    const waiter = this.waiting.shift()
    if (waiter !== undefined) {
      this.refs[slot] = 1
      waiter(slot)
    } else {
      this.free.push(slot)
    }
  }

  /** Byte offset of a slot in the arena. */
  offset(slot: number): number {
    return TABLE_BYTES + slot * this.slotBytes
  }

  /** The slot a view into this arena lies in, or undefined for other memory. */
  slotOf(bytes: Uint8Array): number | undefined {
    if (bytes.buffer !== this.buffer) return undefined
    return Math.floor((bytes.byteOffset - TABLE_BYTES) / this.slotBytes)
  }

  view(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.buffer, offset, length)
  }
}

/** Who else reads a pool's arenas: the hashing threads (Hasher). */
export interface ArenaReaders {
  /** Let go of `arena` once done with it: it is dropped. */
  drop(arena: Arena): void
  /** Resolves once nothing sent to them on `arena` is still being read. */
  settled(arena: Arena): Promise<void>
}

/** Idle arenas kept for reuse, so that each file or archive does not allocate its own. */
export class ArenaPool {
  private readonly idle: Arena[] = []

  constructor(
    private readonly slots: number,
    private readonly front: number,
    private readonly readBytes = READ_BYTES,
    /** Told of an arena dropped, so that they let go too (else they keep its memory alive). */
    private readonly readers?: ArenaReaders,
  ) {}

  acquire(): Arena {
    return this.idle.pop() ?? new Arena(this.slots, this.front, this.readBytes)
  }

  /** Returns an arena; one still holding references (an aborted run) is dropped instead. */
  release(arena: Arena): void {
    if (arena.isIdle()) this.idle.push(arena)
    else this.drop(arena)
  }

  /**
   * Returns an arena whose reader gave up with slots still held (a refused
   * import), when the caller vouches that nothing of its own uses its bytes
   * any more: once the hashing threads have answered every job on it, its
   * slots are freed and it is reused. Without this, every refused read would
   * cost a new arena (~30 MiB), freed only when both threads collect garbage.
   */
  async reclaim(arena: Arena): Promise<void> {
    if (arena.isIdle() || this.readers === undefined) return this.release(arena)
    await this.readers.settled(arena)
    if (arena.reset()) this.idle.push(arena)
    else this.drop(arena)
  }

  private drop(arena: Arena): void {
    arena.dropped = true
    this.readers?.drop(arena)
  }
}
