import type { AbortOptions } from '../blocks/blockstore.js'
import type { Arena } from './arena.js'

/** Fills `target[offset..offset+length)` as far as the source allows; returns bytes read (short only at the end). */
export type ReadInto = (target: Uint8Array, offset: number, length: number) => Promise<number>

/** What a parser makes of one slot's bytes. */
export interface SlotWork<T> {
  /** Where the unfinished tail begins (`end` when everything was used); it moves to the next slot's front. */
  tail: number
  /** Items from this slot, computed off the main thread; yielded in slot order. */
  items?: Promise<T[]>
}

/**
 * Parses `arena[start..end)` of `slot` (absolute offsets). `final` is true
 * for the source's last bytes. A parser that keeps views into the slot past
 * its call must `arena.retain(slot)` and release later.
 */
export type SlotParser<T> = (slot: number, start: number, end: number, final: boolean) => SlotWork<T>

export interface SlotReaderOptions extends AbortOptions {
  /** Slots whose items may be in flight at once. @default 3 */
  window?: number
  /** Called with the bytes read so far. */
  onProgress?: (bytesRead: number) => void
}

/**
 * The read loop shared by ingest and archive import: reads the source into
 * arena slots (prefetching the next one), hands each to `parse`, copies the
 * unfinished tail to the front of the next slot, and yields the parsed items
 * in order while keeping at most `window` slots in flight.
 */
export async function* readSlots<T>(
  read: ReadInto,
  arena: Arena,
  parse: SlotParser<T>,
  options: SlotReaderOptions = {},
): AsyncGenerator<T> {
  const window = options.window ?? 3
  const { front, readBytes } = arena
  const inFlight: Array<Promise<T[]>> = []
  let slot = await arena.acquire(options.signal)
  let base = arena.offset(slot)
  let filled = await read(arena.view(base + front, readBytes), 0, readBytes)
  let carry = 0
  let total = filled
  /**
   * The read of the next slot while this one is parsed. It must settle before
   * the generator ends: the caller closes the source next, and a read still
   * running then fails (EBADF) with nobody left to catch it.
   */
  let pending: Promise<number> | undefined
  try {
    for (;;) {
      options.signal?.throwIfAborted()
      options.onProgress?.(total)
      const final = filled < readBytes
      // With no slot free, let the consumer progress (and free slots) before waiting for one.
      while (!final && !arena.hasFree() && inFlight.length > 0) yield* await inFlight.shift()!
      const nextSlot = final ? undefined : await arena.acquire(options.signal)
      const nextBase = nextSlot === undefined ? 0 : arena.offset(nextSlot)
      const nextRead =
        nextSlot === undefined ? undefined : read(arena.view(nextBase + front, readBytes), 0, readBytes)
      pending = nextRead
      nextRead?.catch(() => {}) // awaited below, or settled in `finally` when parsing fails first
      const start = base + front - carry
      const end = base + front + filled
      const work = parse(slot, start, end, final)
      carry = end - work.tail
      if (carry > front) throw new RangeError(`a ${carry}-byte tail does not fit the slot front`)
      if (nextSlot !== undefined && carry > 0) {
        arena.scanner.bytes.copyWithin(nextBase + front - carry, work.tail, end)
      }
      if (work.items !== undefined) {
        work.items.catch(() => {}) // surfaced in order below
        inFlight.push(work.items)
      }
      arena.release(slot)
      while (inFlight.length > (final ? 0 : window - 1)) yield* await inFlight.shift()!
      if (nextSlot === undefined || nextRead === undefined) {
        if (carry > 0 && final) throw new RangeError('unreachable: a final parse left a tail')
        break
      }
      slot = nextSlot
      base = nextBase
      filled = await nextRead
      pending = undefined
      total += filled
    }
  } finally {
    inFlight.length = 0
    await pending?.catch(() => {})
  }
}

/** A ReadInto over an open file handle, from its current position. */
export function readFromHandle(handle: import('node:fs/promises').FileHandle): ReadInto {
  return async (target, offset, length) => {
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(target, offset + done, length - done, null)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return done
  }
}

/** A ReadInto over any byte stream (its buffers are copied into the slots). */
export function readFromStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): ReadInto {
  const iterator = (
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  ) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>
  let piece: Uint8Array = new Uint8Array(0)
  let ended = false
  return async (target, offset, length) => {
    let done = 0
    while (done < length) {
      if (piece.byteLength === 0) {
        if (ended) break
        const next = await iterator.next()
        if (next.done) {
          ended = true
          break
        }
        piece = next.value
        continue
      }
      const n = Math.min(piece.byteLength, length - done)
      target.set(piece.subarray(0, n), offset + done)
      piece = piece.subarray(n)
      done += n
    }
    return done
  }
}
