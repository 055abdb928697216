import type { Connection, Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { Uint8ArrayList } from 'uint8arraylist'
import { FerryError, type SignedHead } from '../../store/index.js'
import { HEADS_PROTOCOL, MAX_HEADS_BYTES } from './limits.js'
import { decodeHeads, encodeHeads } from './messages.js'

export interface AbortOptions {
  signal?: AbortSignal
}

/** Sends our heads to the peer on `connection` and returns theirs (signatures not yet checked). */
export async function exchangeHeads(
  connection: Connection,
  ours: SignedHead[],
  options: AbortOptions = {},
): Promise<{ heads: SignedHead[]; rejected: number }> {
  const stream = await connection.newStream(HEADS_PROTOCOL, { signal: options.signal })
  try {
    stream.send(lp.encode.single(encodeHeads(ours)))
    await stream.close(options)
    return decodeHeads(await readOne(stream))
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

/** Answers an exchange: reads the peer's heads, replies with ours. */
export async function serveHeads(
  stream: Stream,
  ours: () => Promise<SignedHead[]>,
  options: AbortOptions = {},
): Promise<{ heads: SignedHead[]; rejected: number }> {
  try {
    const theirs = decodeHeads(await readOne(stream))
    stream.send(lp.encode.single(encodeHeads(await ours())))
    await stream.close(options)
    return theirs
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

async function readOne(stream: Stream): Promise<Uint8Array> {
  let message: Uint8ArrayList | Uint8Array | undefined
  for await (const frame of lp.decode(stream, { maxDataLength: MAX_HEADS_BYTES })) {
    if (message !== undefined)
      throw new FerryError('ERR_PROTOCOL', 'heads: more than one message on a stream')
    message = frame
  }
  if (message === undefined) throw new FerryError('ERR_PROTOCOL', 'heads: the stream closed before a message')
  return message.subarray()
}
