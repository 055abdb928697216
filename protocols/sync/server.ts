import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { FerryError } from '../../store/index.js'
import { sendWithBackpressure } from '../stream/index.js'
import type { BlockReader } from './index.js'
import { MAX_WANT_BYTES } from './limits.js'
import { decodeWant, encodeBlockFrame } from './messages.js'

/**
 * Frames are sent in groups of about this many bytes: each send becomes a
 * muxer frame, an encrypted message and a window update from the reader, so
 * one send a 64 KiB block would cost four times the per-frame work.
 */
const SEND_GROUP_BYTES = 256 * 1024

/**
 * Answers one want list on `stream`: a frame a wanted CID, in order, block
 * or absent. Sends honour backpressure, so a slow reader holds at most one
 * group here beyond the muxer's window. A want list out of shape (or any
 * failure) resets the stream and throws.
 */
export async function serveWant(stream: Stream, reader: BlockReader, signal?: AbortSignal): Promise<number> {
  try {
    const want = await readWant(stream)
    let sent = 0
    let group = new Uint8ArrayList()
    for await (const bytes of reader.readMany(want, { signal })) {
      group.append(encodeBlockFrame(bytes))
      if (bytes !== undefined) sent += bytes.byteLength
      if (group.byteLength >= SEND_GROUP_BYTES) {
        await sendWithBackpressure(stream, group, signal)
        group = new Uint8ArrayList()
      }
    }
    if (group.byteLength > 0) await sendWithBackpressure(stream, group, signal)
    await stream.close({ signal })
    return sent
  } catch (err) {
    // Reset, not left half open: the peer learns at once, and the stream's slot and unread data are freed.
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

async function readWant(stream: Stream): Promise<CID[]> {
  let message: Uint8ArrayList | Uint8Array | undefined
  for await (const frame of lp.decode(stream, { maxDataLength: MAX_WANT_BYTES })) {
    if (message !== undefined)
      throw new FerryError('ERR_PROTOCOL', 'sync: more than one want list on a stream')
    message = frame
  }
  if (message === undefined)
    throw new FerryError('ERR_PROTOCOL', 'sync: the stream closed before a want list')
  return decodeWant(message)
}
