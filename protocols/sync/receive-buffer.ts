import { type Arena, FerryError } from '../../store/index.js'

/**
 * Where one fetch's received blocks live from the wire to the pack: views
 * into a shared arena, filled one slot after the other, that the hashing
 * threads verify in place and the writer appends from. Nothing is allocated
 * a block, so a gigabyte passing through makes no garbage (fresh buffers
 * that live until written get promoted and cost the receiver major GCs), and
 * the memory a fetch holds is bounded by the arena: when every slot is
 * held, `reserve` waits, the reply streams go unread and the peer's window
 * closes.
 *
 * Every view handed out is released exactly once: by whoever consumed it,
 * or by `releaseAll` when the fetch ends.
 */
export class ReceiveBuffer {
  private slot: number | undefined
  private cursor = 0
  private readonly held = new Map<Uint8Array, number>()
  private closed = false
  /** The switch to a fresh slot in progress: concurrent reserves wait on the same one. */
  private switching: Promise<void> | undefined

  /** Aborted by releaseAll or the fetch's signal: a reserve waiting for room gives up. */
  private readonly closing = new AbortController()

  constructor(
    readonly arena: Arena,
    signal?: AbortSignal,
  ) {
    if (signal?.aborted) this.closing.abort()
    else signal?.addEventListener('abort', () => this.closing.abort(), { once: true })
  }

  /** A view of `length` bytes in the arena, held until released; waits while every slot is in use. */
  async reserve(length: number): Promise<Uint8Array> {
    if (this.closed || this.closing.signal.aborted)
      throw new FerryError('ERR_ABORTED', 'receive buffer: closed')
    if (length > this.arena.slotBytes)
      throw new FerryError(
        'ERR_PROTOCOL',
        `sync: a block of ${length} B is over the ${this.arena.slotBytes} B limit`,
      )
    while (this.slot === undefined || this.cursor + length > this.arena.slotBytes) {
      this.switching ??= this.nextSlot().finally(() => {
        this.switching = undefined
      })
      await this.switching
    }
    const slot = this.slot as number
    const view = this.arena.view(this.arena.offset(slot) + this.cursor, length)
    this.cursor += length
    this.arena.retain(slot)
    this.held.set(view, slot)
    return view
  }

  /** Gives back a view from `reserve`; a view not held (released already, or not ours) is ignored. */
  release(view: Uint8Array): void {
    const slot = this.held.get(view)
    if (slot === undefined) return
    this.held.delete(view)
    this.arena.release(slot)
  }

  /** True when `view` came from `reserve` and is still held. */
  holds(view: Uint8Array): boolean {
    return this.held.has(view)
  }

  /** Releases every view still held and the slot being filled: the fetch is over. */
  releaseAll(): void {
    this.closed = true
    this.closing.abort()
    for (const view of [...this.held.keys()]) this.release(view)
    if (this.slot !== undefined) this.arena.release(this.slot)
    this.slot = undefined
  }

  private async nextSlot(): Promise<void> {
    // The slot being filled keeps one reference of its own until the next is taken.
    const previous = this.slot
    this.slot = undefined
    if (previous !== undefined) this.arena.release(previous)
    let slot: number
    try {
      slot = await this.arena.acquire(this.closing.signal)
    } catch {
      throw new FerryError('ERR_ABORTED', 'receive buffer: closed while waiting for room')
    }
    if (this.closed) {
      this.arena.release(slot)
      throw new FerryError('ERR_ABORTED', 'receive buffer: closed while waiting for room')
    }
    this.slot = slot
    this.cursor = 0
  }
}
