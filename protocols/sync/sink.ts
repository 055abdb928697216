import { pushable } from 'it-pushable'
import type { CID } from 'multiformats/cid'
import { type Block, blockKey } from '../../store/index.js'

/** Writes blocks and yields each CID once durable (PackBlockstore.putHashed with a flush size). */
export type DurableWriter = (source: AsyncIterable<Block>) => AsyncIterable<CID>

/**
 * One writer for every block a sync receives, from every peer: blocks are
 * queued and appended in large groups, made durable every flush-size, and
 * reported back once durable. Pushing waits while more than `maxQueuedBytes`
 * are queued, so a fast peer can't make the daemon buffer without bound.
 */
export class BlockSink {
  private readonly queue = pushable<Block>({ objectMode: true })
  private queuedBytes = 0
  private readonly roomWaiters: Array<() => void> = []
  private readonly done: Promise<void>
  private failure: unknown
  private readonly sizes = new Map<string, number>()

  constructor(
    write: DurableWriter,
    private readonly onDurable: (cids: CID[]) => void,
    private readonly maxQueuedBytes = 12 * 1024 * 1024,
  ) {
    this.done = this.drain(write)
  }

  /** Queues a verified block; resolves when there is room for more. */
  async push(block: Block): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    this.queuedBytes += block.bytes.byteLength
    this.sizes.set(blockKey(block.cid), block.bytes.byteLength)
    this.queue.push(block)
    while (this.queuedBytes > this.maxQueuedBytes && this.failure === undefined) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
    }
    if (this.failure !== undefined) throw this.failure
  }

  /** Ends the queue and waits until every pushed block is durable. */
  async close(): Promise<void> {
    this.queue.end()
    await this.done
    if (this.failure !== undefined) throw this.failure
  }

  private async drain(write: DurableWriter): Promise<void> {
    try {
      let group: CID[] = []
      for await (const cid of write(this.queue)) {
        const key = blockKey(cid)
        this.queuedBytes -= this.sizes.get(key) ?? 0
        this.sizes.delete(key)
        group.push(cid)
        if (group.length >= 64) {
          this.onDurable(group)
          group = []
        }
        for (const wake of this.roomWaiters.splice(0)) wake()
      }
      if (group.length > 0) this.onDurable(group)
    } catch (err) {
      this.failure = err
      for (const wake of this.roomWaiters.splice(0)) wake()
    }
  }
}
