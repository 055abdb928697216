import { Worker } from 'node:worker_threads'
import type { CID } from 'multiformats/cid'
import { blockMatches } from '../../store/index.js'
import type { VerifyReply, VerifyRequest } from './verify-worker.js'

/** multihash code of sha2-256, the only hash ferry's CIDs use. */
const SHA2_256 = 0x12

/** Blocks smaller than this are hashed here: the round trip to the thread would cost more. */
const MIN_OFFLOAD_BYTES = 16 * 1024

/**
 * Verifies received blocks against their CIDs on a thread of its own, so the
 * main thread can go on decrypting and demultiplexing the connection. A
 * block that owns its whole ArrayBuffer travels there and back without a
 * copy; the bytes resolved are the same bytes, in a new view.
 */
export class BlockVerifier {
  private worker?: Worker
  private nextId = 1
  private readonly pending = new Map<
    number,
    { resolve: (reply: VerifyReply) => void; reject: (err: Error) => void }
  >()

  /** The block's bytes when they hash to `cid`'s digest, else undefined. */
  async verify(cid: CID, bytes: Uint8Array): Promise<Uint8Array | undefined> {
    if (cid.multihash.code !== SHA2_256) return undefined
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    if (!owned || bytes.byteLength < MIN_OFFLOAD_BYTES) return verifyHere(cid, bytes)
    const reply = await this.request(bytes.buffer as ArrayBuffer)
    const back = new Uint8Array(reply.buffer)
    return Buffer.compare(reply.digest, cid.multihash.digest) === 0 ? back : undefined
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    if (worker !== undefined) await worker.terminate()
  }

  private request(buffer: ArrayBuffer): Promise<VerifyReply> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      if (this.pending.size === 1) worker.ref()
      const request: VerifyRequest = { id, buffer }
      worker.postMessage(request, [buffer])
    })
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url))
    worker.on('message', (reply: VerifyReply) => {
      const waiter = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      if (this.pending.size === 0) worker.unref()
      waiter?.resolve(reply)
    })
    worker.on('error', (err) => {
      // Not the peer's fault: the blocks in question fail as a transport error and are asked again.
      for (const waiter of this.pending.values()) waiter.reject(err)
      this.pending.clear()
      this.worker = undefined
    })
    this.worker = worker
    return worker
  }
}

/** Verifies on the calling thread (store's blockMatches): the bytes when they match `cid`, else undefined. */
export async function verifyHere(cid: CID, bytes: Uint8Array): Promise<Uint8Array | undefined> {
  return blockMatches(cid, bytes) ? bytes : undefined
}
