import type { Stream } from '@libp2p/interface'
import { FerryError } from '../../store/index.js'

/**
 * Sends `data`, then waits while the stream's write buffer is full. (The
 * stream's own `onDrain()` in @libp2p/utils 7.4 resolves at once after the
 * first drain, which would let a slow reader make us buffer a whole batch;
 * this waits for the `drain` event itself.)
 */
export async function sendWithBackpressure(
  stream: Stream,
  data: Parameters<Stream['send']>[0],
  signal?: AbortSignal,
): Promise<void> {
  if (stream.send(data)) return
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDrain = () => done()
    const onClose = () => done(new FerryError('ERR_PEER', 'the stream closed while sending'))
    const onAbort = () => done(new FerryError('ERR_ABORTED', 'sending stopped'))
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort)
    if (signal?.aborted) onAbort()
  })
}
