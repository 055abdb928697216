import type { CID } from 'multiformats/cid'
import type { Block } from '../../store/index.js'

/**
 * Writes blocks and yields each CID once durable (PackBlockstore.putHashed
 * with a flush size); calls `onStored` with blocks as soon as their bytes
 * are no longer needed (written, or skipped as present).
 */
export type DurableWriter = (
  source: AsyncIterable<Block>,
  onStored: (blocks: Block[]) => void,
) => AsyncIterable<CID>

/**
 * One writer for every block a sync receives, from every peer: blocks are
 * queued and appended in large groups, made durable every flush-size, and
 * reported back once durable. Pushing waits while the blocks waiting for the
 * writer to take them would exceed `maxQueuedBytes`, so a fast peer can't make
 * the daemon buffer without bound. (The bound is on bytes not yet taken, not on bytes
 * not yet durable: the writer makes a group durable only when more blocks
 * arrive or the queue ends, so waiting for durability here would deadlock.)
 */
export class BlockSink {
  private readonly queue: Block[] = []
  private queuedBytes = 0
  private ended = false
  private readonly roomWaiters: Array<() => void> = []
  private dataWaiter?: () => void
  private readonly done: Promise<void>
  private failure: unknown

  constructor(
    write: DurableWriter,
    private readonly onDurable: (cids: CID[]) => void,
    private readonly onStored: (blocks: Block[]) => void,
    private readonly maxQueuedBytes = 1024 * 1024,
  ) {
    this.done = this.drain(write)
  }

  /** Bytes pushed and not yet taken by the writer. */
  get waitingBytes(): number {
    return this.queuedBytes
  }

  /**
   * Queues a verified block once there is room for it (a block larger than the bound goes into an
   * empty queue). Waiting before queueing, not after, keeps the bound when many blocks are verified
   * at once: what the queue holds was received and is not durable, so a crash costs it again.
   */
  async push(block: Block): Promise<void> {
    if (this.ended) throw new Error('sink: push after close')
    const size = block.bytes.byteLength
    while (
      this.failure === undefined &&
      this.queue.length > 0 &&
      this.queuedBytes + size > this.maxQueuedBytes
    ) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
    }
    if (this.failure !== undefined) throw this.failure
    this.queue.push(block)
    this.queuedBytes += size
    this.wakeWriter()
  }

  /** Ends the queue and waits until every pushed block is durable. */
  async close(): Promise<void> {
    this.ended = true
    this.wakeWriter()
    await this.done
    if (this.failure !== undefined) throw this.failure
  }

  private wakeWriter(): void {
    const wake = this.dataWaiter
    this.dataWaiter = undefined
    wake?.()
  }

  private async *blocks(): AsyncGenerator<Block> {
    for (;;) {
      const block = this.queue.shift()
      if (block !== undefined) {
        this.queuedBytes -= block.bytes.byteLength
        // One block's room freed: the longest-waiting push checks whether its block fits.
        this.roomWaiters.shift()?.()
        yield block
        continue
      }
      if (this.ended) return
      await new Promise<void>((resolve) => {
        this.dataWaiter = resolve
      })
    }
  }

  private async drain(write: DurableWriter): Promise<void> {
    try {
      let group: CID[] = []
      for await (const cid of write(this.blocks(), this.onStored)) {
        group.push(cid)
        if (group.length >= 64) {
          this.onDurable(group)
          group = []
        }
      }
      if (group.length > 0) this.onDurable(group)
    } catch (err) {
      this.failure = err
      for (const wake of this.roomWaiters.splice(0)) wake()
    }
  }
}
