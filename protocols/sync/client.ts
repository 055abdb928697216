import type { Connection } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { FerryError } from '../../store/index.js'
import { abortStream, boundedSource } from '../stream/index.js'
import { MAX_FRAME_BYTES, READ_HIGH_WATER_BYTES, SYNC_PROTOCOL } from './constants.js'
import type { RequestOptions } from './index.js'
import { encodeWant } from './messages.js'
import { readReplyFrames } from './reply-reader.js'

/**
 * Asks the peer on `connection` for `cids` in one stream and hands each
 * reply to `onFrame` in request order: the block's bytes as a view held in
 * `options.buffer` (`onFrame` owns it and releases it), or undefined when
 * the peer has not got it. Throws ERR_PROTOCOL when the peer replies out of
 * shape.
 */
export async function requestBlocks(
  connection: Connection,
  cids: CID[],
  onFrame: (index: number, bytes: Uint8Array | undefined) => Promise<void> | void,
  options: RequestOptions,
): Promise<void> {
  const stream = await connection.newStream(SYNC_PROTOCOL, { signal: options.signal })
  try {
    stream.send(encodeWant(cids))
    await stream.close({ signal: options.signal })
    let index = 0
    const frames = readReplyFrames(
      boundedSource(stream, READ_HIGH_WATER_BYTES, { idleMs: options.idleMs }),
      options.buffer,
      MAX_FRAME_BYTES,
    )
    for await (const bytes of frames) {
      if (index >= cids.length) {
        if (bytes !== undefined) options.buffer.release(bytes)
        throw new FerryError('ERR_PROTOCOL', 'sync: the peer sent more frames than asked for')
      }
      await onFrame(index, bytes)
      index++
    }
    if (index < cids.length)
      throw new FerryError('ERR_PROTOCOL', `sync: the peer answered ${index} of ${cids.length} wants`)
  } catch (err) {
    abortStream(stream, err)
    throw err
  }
}
