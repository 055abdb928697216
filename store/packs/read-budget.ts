import type { AbortOptions } from '../blocks/blockstore.js'

/**
 * Pack reads in flight, shared by every reader that holds one: a reader
 * takes a token before it reads a run and gives it back once its consumer
 * is done with the run's bytes (sent them), so that many readers at once
 * (fifty clients pulling an image) hold a bounded amount of memory between
 * them, not a read-ahead each. A reader that holds runs must let its
 * consumer take them before it waits for a token (`available`), or readers
 * waiting on each other's tokens would never give theirs back.
 */
export class ReadBudget {
  private readonly waiting: Array<() => void> = []

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
  acquire(options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.tokens > 0) {
      this.tokens--
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(granted)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(options.signal?.reason)
      }
      const granted = () => {
        options.signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(granted)
    })
  }

  /** Gives a token back (to the longest waiter, if any). */
  release(): void {
    const next = this.waiting.shift()
    if (next !== undefined) next()
    else this.tokens++
  }
}
