import type { CID } from 'multiformats/cid'
import type { Block } from '../blocks/blockstore.js'
import { FerryError } from '../errors.js'
import { encodeCarHeader, sectionBuffers } from './format.js'

/** The writing side of a streamed CARv1: blocks in, in the order they are to appear. */
export interface CarWriter {
  /**
   * Queues `blocks` as sections; resolves once the reader of `out` has
   * taken them (backpressure: a writer that awaits each put holds at most
   * one put's bytes).
   */
  put(blocks: Block[]): Promise<void>
  /** Ends `out` after what was put. */
  close(): void
  /** Ends `out` with `reason`: its reader's next step throws it. */
  abort(reason: unknown): void
  /** Bytes handed to `out` so far, the header included. */
  readonly bytes: number
}

/**
 * A CARv1 as a stream: `{ writer, out }` (the shape of js-car's
 * `CarWriter.create`), for an archive sent somewhere other than a file
 * (an HTTP response). `out` yields the header, then each put's sections;
 * it is single-reader. Nothing is buffered beyond the put being read.
 */
export function createCarStream(roots: CID[]): { writer: CarWriter; out: AsyncIterable<Uint8Array> } {
  const queue: Uint8Array[][] = [[encodeCarHeader(roots)]]
  const taken: Array<() => void> = [() => {}]
  let wake: (() => void) | undefined
  let closed = false
  let failure: { reason: unknown } | undefined
  let bytes = 0

  const notify = () => {
    wake?.()
    wake = undefined
  }
  const writer: CarWriter = {
    put(blocks) {
      if (closed)
        return Promise.reject(new FerryError('ERR_INVALID_ARGUMENT', 'put after the CAR stream ended'))
      const buffers = sectionBuffers(blocks)
      return new Promise<void>((resolve) => {
        queue.push(buffers)
        taken.push(resolve)
        notify()
      })
    },
    close() {
      closed = true
      notify()
    },
    abort(reason) {
      closed = true
      failure = { reason }
      notify()
    },
    get bytes() {
      return bytes
    },
  }

  async function* read(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (failure !== undefined) throw failure.reason
        const buffers = queue.shift()
        if (buffers === undefined) {
          if (closed) return
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          continue
        }
        for (const buffer of buffers) {
          bytes += buffer.byteLength
          yield buffer
        }
        taken.shift()?.()
      }
    } finally {
      // A reader that stops early releases every writer still waiting, which then sees the end.
      closed = true
      for (const release of taken.splice(0)) release()
    }
  }
  return { writer, out: read() }
}
