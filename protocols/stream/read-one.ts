import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { Uint8ArrayList } from 'uint8arraylist'
import { FerryError, isFerryError } from '../../store/index.js'
import { type StreamDeadline, withDeadline } from './abort.js'

/** Names of it-length-prefixed's errors (the package does not export their classes). */
const LP_ERRORS = new Set([
  'InvalidMessageLengthError',
  'InvalidDataLengthError',
  'InvalidDataLengthLengthError',
  'UnexpectedEOFError',
])

export interface ReadOneOptions extends StreamDeadline {
  /** Largest message accepted: a length prefix announcing more fails at once, before its bytes arrive. */
  maxBytes: number
}

/**
 * Reads the one length-prefixed message a peer sends on `stream` before
 * closing its write side. A message over `maxBytes`, a second message, or
 * none at all is ERR_PROTOCOL; the whole message not in within `timeoutMs`
 * is ERR_PEER (a peer that opens a stream and sends nothing can't hold it),
 * and so is the stream failing; `signal` is ERR_ABORTED. Any of these
 * resets the stream.
 */
export function readOne(stream: Stream, options: ReadOneOptions): Promise<Uint8Array> {
  return withDeadline(stream, options, () => decodeOne(stream, options))
}

async function decodeOne(stream: Stream, { maxBytes, what }: ReadOneOptions): Promise<Uint8Array> {
  try {
    let message: Uint8ArrayList | Uint8Array | undefined
    for await (const frame of lp.decode(stream, { maxDataLength: maxBytes })) {
      if (message !== undefined) throw new FerryError('ERR_PROTOCOL', `${what}: more than one message`)
      message = frame
    }
    if (message === undefined)
      throw new FerryError('ERR_PROTOCOL', `${what}: the stream closed before a message`)
    return message.subarray()
  } catch (err) {
    if (isFerryError(err)) throw err
    // it-length-prefixed's errors (a prefix over maxBytes, a message cut short) are the peer's bad
    // framing; anything else is the stream failing (a reset by the peer, the connection gone).
    const framing = LP_ERRORS.has((err as Error).name)
    throw new FerryError(framing ? 'ERR_PROTOCOL' : 'ERR_PEER', `${what}: ${(err as Error).message}`, {
      cause: err,
    })
  }
}
