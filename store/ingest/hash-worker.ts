/*
 * A hashing thread: sha256 of chunks, or the running sha256 of whole files,
 * off the main thread, which meanwhile reads and chunks. The bytes stay where the
 * main thread read them (a shared arena); only offsets and digests travel.
 * Requests are answered in the order they arrive.
 */
import { createHash, type Hash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { sha256Digest } from '../blocks/sha256.js'

export type HashRequest =
  | { type: 'arena'; arena: number; buffer: SharedArrayBuffer }
  | { type: 'update'; job: number; arena: number; start: number; end: number }
  | { type: 'chunks'; arena: number; start: number; cuts: number[] }
  | { type: 'ranges'; arena: number; ranges: number[] }
  | { type: 'finish'; job: number }
  | { type: 'owned'; buffer: ArrayBuffer; ranges: number[] }
  /** Let go of an arena (its pool dropped it; every job on it was answered). No reply. */
  | { type: 'forget'; arena: number }
  | { type: 'held' }

export type HashReply =
  | { type: 'arena' }
  | { type: 'update' }
  | { type: 'chunks'; digests: Uint8Array }
  | { type: 'finish'; sha256: string }
  | { type: 'owned'; digests: Uint8Array; buffer: ArrayBuffer }
  | { type: 'held'; arenas: number }

const arenas = new Map<number, Uint8Array>()
const wholes = new Map<number, Hash>()

function reply(message: HashReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer)
}

/** sha256 of `bytes`' ranges `[start0, end0, start1, end1, …]` (blocks that need not be contiguous): 32 bytes each. */
function hashRanges(bytes: Uint8Array, ranges: number[]): Uint8Array<ArrayBuffer> {
  const digests = new Uint8Array(16 * ranges.length)
  for (let i = 0; i < ranges.length; i += 2)
    digests.set(sha256Digest(bytes.subarray(ranges[i], ranges[i + 1])), i * 16)
  return digests
}

parentPort?.on('message', (request: HashRequest) => {
  switch (request.type) {
    case 'arena':
      arenas.set(request.arena, new Uint8Array(request.buffer))
      reply({ type: 'arena' })
      return
    case 'forget':
      arenas.delete(request.arena)
      return
    case 'held':
      reply({ type: 'held', arenas: arenas.size })
      return
    case 'finish': {
      const whole = wholes.get(request.job) ?? createHash('sha256')
      wholes.delete(request.job)
      reply({ type: 'finish', sha256: whole.digest('hex') })
      return
    }
    case 'update': {
      let whole = wholes.get(request.job)
      if (whole === undefined) {
        whole = createHash('sha256')
        wholes.set(request.job, whole)
      }
      whole.update(arenas.get(request.arena)!.subarray(request.start, request.end))
      reply({ type: 'update' })
      return
    }
    case 'owned': {
      // A buffer handed over (transferred) with ranges to hash; handed back with the digests.
      const { buffer } = request
      const digests = hashRanges(new Uint8Array(buffer), request.ranges)
      reply({ type: 'owned', digests, buffer }, [digests.buffer, buffer])
      return
    }
    case 'ranges': {
      const digests = hashRanges(arenas.get(request.arena)!, request.ranges)
      reply({ type: 'chunks', digests }, [digests.buffer])
      return
    }
    case 'chunks': {
      const { start, cuts } = request
      const bytes = arenas.get(request.arena)!
      const digests = new Uint8Array(32 * cuts.length)
      let from = start
      for (let i = 0; i < cuts.length; i++) {
        digests.set(sha256Digest(bytes.subarray(from, cuts[i])), i * 32)
        from = cuts[i]
      }
      reply({ type: 'chunks', digests }, [digests.buffer])
    }
  }
})
