import type { Connection, Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { SignedHead } from '../../store/index.js'
import { readOne, withDeadline } from '../stream/index.js'
import { HEADS_PROTOCOL, MAX_HEADS_BYTES } from './constants.js'
import type { ExchangeOptions, ReceivedHeads } from './index.js'
import { decodeHeads, encodeHeads } from './messages.js'

const WHAT = 'heads'

/**
 * Sends our heads to the peer on `connection` and returns theirs (signatures
 * not yet checked). The whole exchange is bounded by `options.timeoutMs`.
 */
export async function exchangeHeads(
  connection: Connection,
  ours: SignedHead[],
  options: ExchangeOptions = {},
): Promise<ReceivedHeads> {
  const stream = await connection.newStream(HEADS_PROTOCOL, { signal: options.signal })
  return withDeadline(stream, { ...options, what: WHAT }, async () => {
    stream.send(lp.encode.single(encodeHeads(ours)))
    await stream.close()
    return decodeHeads(await readOne(stream, { maxBytes: MAX_HEADS_BYTES, what: WHAT }))
  })
}

/**
 * Answers an exchange the peer opened: reads its heads, replies with ours.
 * The whole exchange is bounded by `options.timeoutMs`.
 */
export function serveHeads(
  stream: Stream,
  ours: () => Promise<SignedHead[]>,
  options: ExchangeOptions = {},
): Promise<ReceivedHeads> {
  return withDeadline(stream, { ...options, what: WHAT }, async () => {
    const theirs = decodeHeads(await readOne(stream, { maxBytes: MAX_HEADS_BYTES, what: WHAT }))
    stream.send(lp.encode.single(encodeHeads(await ours())))
    await stream.close()
    return theirs
  })
}
