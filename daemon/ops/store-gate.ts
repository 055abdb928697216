/**
 * Keeps `gc` apart from everything else that uses the store in one process.
 * gc drops blocks that no head reaches, so it must not run while a build,
 * import or sync has written blocks that its head does not reach yet, nor
 * while an export or cat reads blocks that it may move. Any number of
 * shared holders run together; an exclusive holder runs alone. New shared
 * holders do not wait for a waiting exclusive one, so a stalled reader
 * delays gc but never the other operations.
 */
export class StoreGate {
  private sharedCount = 0
  private exclusiveHeld = false
  private readonly waiting: Array<{ exclusive: boolean; wake: () => void }> = []

  /** Runs `fn` beside other shared holders, never beside an exclusive one. */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false)
    try {
      return await fn()
    } finally {
      this.sharedCount--
      this.wakeNext()
    }
  }

  /** Runs `fn` alone: after the current holders are done, before nothing else starts. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true)
    try {
      return await fn()
    } finally {
      this.exclusiveHeld = false
      this.wakeNext()
    }
  }

  /** Takes a shared hold until the returned release is called (for streams read piece by piece). */
  async holdShared(): Promise<() => void> {
    await this.acquire(false)
    let released = false
    return () => {
      if (released) return
      released = true
      this.sharedCount--
      this.wakeNext()
    }
  }

  private acquire(exclusive: boolean): Promise<void> {
    if (this.canEnter(exclusive)) {
      this.enter(exclusive)
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiting.push({ exclusive, wake: resolve }))
  }

  private canEnter(exclusive: boolean): boolean {
    return exclusive ? !this.exclusiveHeld && this.sharedCount === 0 : !this.exclusiveHeld
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = true
    else this.sharedCount++
  }

  private wakeNext(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i]
      if (!this.canEnter(waiter.exclusive)) {
        i++
        continue
      }
      this.waiting.splice(i, 1)
      this.enter(waiter.exclusive)
      waiter.wake()
      if (waiter.exclusive) return
    }
  }
}
