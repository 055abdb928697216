import type { Connection } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { cidFor, DAG_CBOR, FerryError, type PatchNode, patchNode } from '../../store/index.js'
import { abortStream, boundedSource } from '../stream/index.js'
import { MAX_FRAME_BYTES, READ_HIGH_WATER_BYTES, SYNC_PROTOCOL, SYNC_PROTOCOL_PATCHES } from './constants.js'
import type { OnFrame, RequestOptions } from './index.js'
import { encodeWant } from './messages.js'
import { readReplyFrames } from './reply-reader.js'

/**
 * Asks the peer on `connection` for `cids` in one stream and hands each
 * reply to `onFrame` in request order: the block's bytes as a view held in
 * `options.buffer` (`onFrame` owns it and releases it), or undefined when
 * the peer has not got it; or, when `options.patch` asks for patches and the
 * peer speaks 1.1.0, a patch standing for the next few wants. Throws
 * ERR_PROTOCOL when the peer replies out of shape, ERR_CORRUPT_BLOCK when a
 * patch node does not decode.
 */
export async function requestBlocks(
  connection: Connection,
  cids: CID[],
  onFrame: OnFrame,
  options: RequestOptions,
): Promise<void> {
  const offer = options.patch === undefined ? SYNC_PROTOCOL : [SYNC_PROTOCOL_PATCHES, SYNC_PROTOCOL]
  const stream = await connection.newStream(offer, { signal: options.signal })
  const patches = stream.protocol === SYNC_PROTOCOL_PATCHES
  try {
    stream.send(encodeWant(cids, patches ? options.patch : undefined))
    await stream.close({ signal: options.signal })
    let index = 0
    const frames = readReplyFrames(
      boundedSource(stream, READ_HIGH_WATER_BYTES, { idleMs: options.idleMs }),
      options.buffer,
      MAX_FRAME_BYTES,
      patches,
    )
    for await (const frame of frames) {
      const view = frame instanceof Uint8Array ? frame : frame?.patch
      let patch: PatchNode | undefined
      try {
        patch = frame === undefined || frame instanceof Uint8Array ? undefined : patchIn(frame.patch)
        if (index + (patch?.targets.length ?? 1) > cids.length)
          throw new FerryError('ERR_PROTOCOL', 'sync: the peer sent more frames than asked for')
        if (patch !== undefined && !patch.targets.every((target, i) => target.equals(cids[index + i])))
          throw new FerryError(
            'ERR_PROTOCOL',
            'sync: the peer sent a patch for blocks it was not asked for next',
          )
      } catch (err) {
        if (view !== undefined) options.buffer.release(view)
        throw err
      }
      const answers = patch?.targets.length ?? 1
      await onFrame(index, view, patch)
      index += answers
    }
    if (index < cids.length)
      throw new FerryError('ERR_PROTOCOL', `sync: the peer answered ${index} of ${cids.length} wants`)
  } catch (err) {
    abortStream(stream, err)
    throw err
  }
}

/** The patch node a patch frame holds; its `bytes` are a view of the frame. ERR_CORRUPT_BLOCK when it is not one. */
function patchIn(bytes: Uint8Array): PatchNode {
  return patchNode.decode(cidFor(DAG_CBOR, bytes), bytes)
}
