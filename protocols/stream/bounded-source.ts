import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { FerryError } from '../../store/index.js'

export interface BoundedSourceOptions {
  /**
   * Fail with ERR_PEER when the reader waits this long and nothing arrives
   * (time the reader spends elsewhere, or paused, does not count).
   * @default no limit
   */
  idleMs?: number
}

/**
 * Reads a stream as an async iterable that buffers at most about
 * `highWaterBytes`: past that the stream is paused, so the muxer stops
 * granting the peer window, and it is resumed once the reader has caught up.
 * (A v3 stream's own iterator queues whatever arrives, without limit.)
 */
export async function* boundedSource(
  stream: Stream,
  highWaterBytes: number,
  options: BoundedSourceOptions = {},
): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  const { idleMs } = options
  const queue: Array<Uint8Array | Uint8ArrayList> = []
  let queued = 0
  let ended = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  let pauseScheduled = false
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const onMessage = (event: { data: Uint8Array | Uint8ArrayList }) => {
    queue.push(event.data)
    queued += event.data.byteLength
    // Pausing from inside a message handler that resume() is dispatching is undone by that
    // resume(): pause on the next turn instead.
    if (queued > highWaterBytes && !pauseScheduled) {
      pauseScheduled = true
      setImmediate(() => {
        pauseScheduled = false
        if (queued > highWaterBytes && stream.readStatus === 'readable') stream.pause()
      })
    }
    notify()
  }
  // One timer for the whole stream, re-armed when the reader starts to wait (no timer a wait).
  let idleTimer: NodeJS.Timeout | undefined
  let failIdle: ((err: Error) => void) | undefined
  const onIdle = () => {
    const fail = failIdle
    if (fail === undefined) return // fired while the reader was busy: a later wait re-arms it
    failIdle = undefined
    wake = undefined
    fail(new FerryError('ERR_PEER', `the peer sent nothing for ${(idleMs ?? 0) / 1000} s`))
  }
  const onEnd = (event?: Event & { error?: Error }) => {
    ended = true
    failure ??= event?.error
    notify()
  }
  stream.addEventListener('message', onMessage as never)
  stream.addEventListener('close', onEnd as never)
  stream.addEventListener('remoteCloseWrite', onEnd as never)
  try {
    for (;;) {
      const chunk = queue.shift()
      if (chunk !== undefined) {
        queued -= chunk.byteLength
        if (queued <= highWaterBytes / 2 && stream.readStatus === 'paused') stream.resume()
        yield chunk
        continue
      }
      if (failure !== undefined) throw failure
      // Data held while paused is handed over (synchronously) by resume().
      if (stream.readStatus === 'paused') {
        stream.resume()
        continue
      }
      if (ended && stream.readBufferLength === 0) return
      await new Promise<void>((resolve, reject) => {
        wake = resolve
        // After the end, what is still buffered arrives on a timer of the stream's: look again soon.
        if (ended) setImmediate(notify)
        else if (idleMs !== undefined) {
          failIdle = reject
          if (idleTimer === undefined) idleTimer = setTimeout(onIdle, idleMs)
          else idleTimer.refresh()
        }
      })
      failIdle = undefined
    }
  } finally {
    clearTimeout(idleTimer)
    stream.removeEventListener('message', onMessage as never)
    stream.removeEventListener('close', onEnd as never)
    stream.removeEventListener('remoteCloseWrite', onEnd as never)
  }
}
