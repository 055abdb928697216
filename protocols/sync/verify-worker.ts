/*
 * The thread that verifies received blocks: each request brings a block's
 * own ArrayBuffer (transferred, not copied), and the reply gives it back
 * with the block's sha256.
 */
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

export interface VerifyRequest {
  id: number
  buffer: ArrayBuffer
}

export interface VerifyReply {
  id: number
  buffer: ArrayBuffer
  digest: Uint8Array
}

parentPort?.on('message', ({ id, buffer }: VerifyRequest) => {
  const digest = createHash('sha256').update(new Uint8Array(buffer)).digest()
  const reply: VerifyReply = { id, buffer, digest: new Uint8Array(digest) }
  parentPort!.postMessage(reply, [buffer, reply.digest.buffer as ArrayBuffer])
})
