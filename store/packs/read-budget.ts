import type { AbortOptions } from '../blocks/blockstore.js'

/** A token of a {@link ReadBudget}: the right to hold one run, and the buffer it may be read into. */
export interface ReadToken {
  /** A buffer of an earlier run given back for reuse, or undefined (the reader makes one). */
  buffer?: ArrayBuffer
}

/**
 * Pack reads in flight, shared by every reader that holds one: a reader
 * takes a token before it reads a run and gives it back once its consumer
 * is done with the run's bytes (sent them), so that many readers at once
 * (fifty clients pulling an image) hold a bounded amount of memory between
 * them, not a read-ahead each. A token given back with its buffer lends
 * that buffer to the next reader: no allocation, no garbage per run. A
 * reader that holds runs must let its consumer take them before it waits
 * for a token (`available`), or readers waiting on each other's tokens
 * would never give theirs back.
 */
export class ReadBudget {
  private readonly waiting: Array<(token: ReadToken) => void> = []
  private readonly buffers: ArrayBuffer[] = []

  /** @param tokens runs that may be in flight at once, over all readers */
  constructor(private tokens: number) {
    if (!Number.isInteger(tokens) || tokens < 1)
      throw new RangeError(`a read budget needs at least 1 token, not ${tokens}`)
  }

  /** True when a token can be had without waiting. */
  available(): boolean {
    return this.tokens > 0
  }

  /** A token; waits for one to be given back when none is free. An abort while waiting rejects. */
  acquire(options: AbortOptions = {}): Promise<ReadToken> {
    options.signal?.throwIfAborted()
    if (this.tokens > 0) {
      this.tokens--
      return Promise.resolve({ buffer: this.buffers.pop() })
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(granted)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(options.signal?.reason)
      }
      const granted = (token: ReadToken) => {
        options.signal?.removeEventListener('abort', onAbort)
        resolve(token)
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(granted)
    })
  }

  /**
   * Gives a token back (to the longest waiter, if any). `reuse`: its buffer
   * is no longer referenced anywhere and may be lent again; otherwise it is
   * dropped (its bytes may still be on their way somewhere).
   */
  release(token: ReadToken, reuse = false): void {
    const buffer =
      reuse && token.buffer !== undefined && token.buffer.byteLength > 0 ? token.buffer : undefined
    const next = this.waiting.shift()
    if (next !== undefined) {
      next({ buffer: buffer ?? this.buffers.pop() })
      return
    }
    if (buffer !== undefined) this.buffers.push(buffer)
    this.tokens++
  }
}
