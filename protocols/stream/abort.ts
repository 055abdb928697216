import type { Stream } from '@libp2p/interface'
import { FerryError } from '../../store/index.js'

/** `err` as an Error, as `Stream#abort` wants one. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/**
 * Resets `stream` with `err`: the peer learns at once, and the stream's slot
 * and unread data are freed (rather than left half open).
 */
export function abortStream(stream: Stream, err: unknown): void {
  stream.abort(asError(err))
}

/** What ends a stream early: the host stopping, or the peer taking too long. */
export interface StreamDeadline {
  /** Reset the stream with ERR_ABORTED when this aborts. */
  signal?: AbortSignal
  /**
   * Reset the stream with ERR_PEER when it is still in use this long from now.
   * @default no limit
   */
  timeoutMs?: number
  /** Names what is awaited, for the error ("heads", "want list"). */
  what: string
}

/**
 * Resets `stream` when `signal` aborts or `timeoutMs` passes, whichever is
 * first; a reader of the stream then fails with that error. Returns the
 * function that disarms both (call it once the stream is done with). One
 * timer a stream, none when no timeout is given.
 */
export function abortStreamOn(stream: Stream, deadline: StreamDeadline): () => void {
  const { signal, timeoutMs, what } = deadline
  const onAbort = () => abortStream(stream, new FerryError('ERR_ABORTED', `${what}: stopped`))
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            abortStream(
              stream,
              new FerryError('ERR_PEER', `${what}: the peer did not finish within ${timeoutMs} ms`),
            ),
          timeoutMs,
        )
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) onAbort()
  return () => {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Runs `work` on `stream` under `deadline` (abortStreamOn): a failure of
 * `work`, the timeout included, resets the stream and is rethrown.
 */
export async function withDeadline<T>(
  stream: Stream,
  deadline: StreamDeadline,
  work: () => Promise<T>,
): Promise<T> {
  const disarm = abortStreamOn(stream, deadline)
  try {
    return await work()
  } catch (err) {
    abortStream(stream, err)
    throw err
  } finally {
    disarm()
  }
}
